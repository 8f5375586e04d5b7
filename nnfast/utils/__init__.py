"""Library plumbing shared by nnfast's modules: argument checks (checks), the progress bar
(progbar), the configurable-object registry (registry) and arrays placed on cache lines
(aligned). Pure Python."""
