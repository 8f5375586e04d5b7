"""Library plumbing shared by nnfast's modules: argument checks (checks), the progress bar
(progbar) and the configurable-object registry (registry). Pure Python."""
