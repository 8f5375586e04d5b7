"""What Keras 3's imdb and reuters loaders do alike to their reviews and newswires (lists of word
indices): the argument checks, the start mark and index shift, the maxlen filter and the
vocabulary cut."""
import warnings

from ...utils import checks


def checked_arguments(loader, num_words, skip_top, maxlen, index_from, ignored):
    """(num_words, skip_top, maxlen, index_from) checked before any file is read. Keras 3 ignores
    keyword arguments it does not know (Keras 2's ``nb_words``, ...); so does nnfast, with a warning."""
    if ignored:
        warnings.warn(f"{loader} ignores {sorted(ignored)}, as Keras 3 does", stacklevel=3)
    return (checks.optional_integer("num_words", num_words, lo=0), checks.integer("skip_top", skip_top, lo=0),
            checks.optional_integer("maxlen", maxlen, lo=0), checks.integer("index_from", index_from, lo=0))


def marked(sequences, start_char, index_from):
    """Each sequence's indices shifted by `index_from`, after `start_char` unless it is None."""
    prefix = [] if start_char is None else [start_char]
    return [prefix + [w + index_from for w in x] for x in sequences]


def shorter_than(maxlen, sequences, labels):
    """The sequences shorter than maxlen and their labels (Keras's remove_long_seq)."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def within_vocabulary(sequences, num_words, skip_top, oov_char, maxlen):
    """Indices outside [skip_top, num_words) replaced by `oov_char`, or dropped when it is None;
    num_words None or 0 means the largest index present (where Keras fails on max() of nothing
    when maxlen left no sequence, this says so)."""
    if not num_words:
        if not sequences:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept "
                             "to take the vocabulary size from. Increase maxlen, or pass num_words.")
        num_words = max(max(x) for x in sequences)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]
