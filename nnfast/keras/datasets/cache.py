"""Keras's file cache: where the dataset loaders find their files, and how a missing one arrives.

``get_file`` keeps Keras 3's signature, cache location and file layout, so a file Keras downloaded
is found by nnfast and the other way round: ``$KERAS_HOME`` (read at each call, where Keras reads
it once at import) or ``~/.keras``, falling back to ``/tmp/.keras`` where that is not writable, then
``cache_subdir`` (``datasets``). A download streams into a temporary file next to the target, is
checked against the expected hash and only then renamed into place, so an interrupted or corrupt
download never sits in the cache under the real name. When the file is missing and cannot be
downloaded, the error says where to put it by hand.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from ...utils import checks

__all__ = ["get_file", "keras_home", "hash_file"]

CHUNK_BYTES = 1 << 20
ARCHIVE_FORMATS = ("tar", "zip")


def keras_home():
    """``$KERAS_HOME`` when set, else ``~/.keras`` (``/tmp/.keras`` when the home folder is not
    writable), as Keras 3 picks its base folder."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    return os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")


def hash_file(path, algorithm="sha256"):
    """The hex digest of the file at `path` ("sha256" or "md5")."""
    hasher = hashlib.new(checks.one_of("algorithm", algorithm, ("sha256", "md5")))
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _algorithm(hash_algorithm, file_hash):
    # Keras's "auto": a 64-digit hash is sha256, anything else md5
    if hash_algorithm == "auto":
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    return checks.one_of("hash_algorithm", hash_algorithm, ("auto", "sha256", "md5"))


def _cache_folder(cache_dir, cache_subdir):
    base = os.path.expanduser(keras_home() if cache_dir is None else os.fspath(cache_dir))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:  # read-only: Keras then falls back to /tmp/.keras
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """The path of the cached file `fname` (or, with ``extract=True``, of the folder it was
    extracted to), downloaded from the URL `origin` first when it is missing, when its hash does
    not match `file_hash`, or when `force_download` is true. Arguments and paths as Keras 3's
    ``keras.utils.get_file``: `fname` defaults to the last part of `origin`; an archive fetched
    with ``extract=True`` is kept as ``FNAME_archive`` and extracted into the folder ``FNAME``
    (a name with a dot is kept as is and extracted into ``STEM_extracted``).

    Raises FileNotFoundError when the file is missing and the download fails (the message names the
    URL, the reason and the path to put the file at), and ValueError when a downloaded file does
    not match `file_hash` (it is then not kept).
    """
    if origin is None:
        raise ValueError("origin must be the URL of the file to download, got None")
    origin = checks.string("origin", origin)
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _algorithm(hash_algorithm, file_hash)
    folder = _cache_folder(cache_dir, cache_subdir)
    given_name = os.fspath(fname) if fname else None
    name = given_name or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"fname must be given when origin names no file, got origin={origin!r}")
    if os.sep in name:
        raise ValueError(f"fname must be a file name without a folder (use cache_dir), got {name!r}")
    target, extraction = _layout(folder, name, given_name is not None, extract or untar)
    fetched = force_download or not os.path.exists(target) or (
        file_hash is not None and hash_file(target, algorithm) != file_hash.lower())
    if fetched:
        _download(origin, target, file_hash, algorithm)
    if extraction is None:
        return target
    if fetched or not os.path.isdir(extraction):
        if not _extract(target, extraction, "tar" if untar else archive_format):
            warnings.warn(f"get_file could not extract {target} (not a {archive_format} archive)", stacklevel=2)
    return extraction


def _layout(folder, name, named, extract):
    """(download target, extraction folder or None), named as Keras 3 names them."""
    if not extract:
        return os.path.join(folder, name), None
    if named and "." in name:
        return os.path.join(folder, name), os.path.join(folder, name[:name.find(".")] + "_extracted")
    return os.path.join(folder, name + "_archive"), os.path.join(folder, name)


def _download(origin, target, file_hash, algorithm):
    """Stream `origin` into a temporary file beside `target`, check its hash, rename it into place."""
    print(f"Downloading data from {origin}")
    hasher = hashlib.new(algorithm)
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(target), prefix=os.path.basename(target) + ".",
                                       suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(origin) as response:
                    for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                        hasher.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as e:
                # an HTTPError's text has its status code; a URLError's reason says what failed
                plain_url_error = isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError)
                reason = e.reason if plain_url_error else e
                raise FileNotFoundError(
                    f"{os.path.basename(target)} is not in the Keras cache and could not be downloaded from "
                    f"{origin} ({reason}); put the file at {target}") from e
        digest = hasher.hexdigest()
        if file_hash is not None and digest != file_hash.lower():
            raise ValueError(f"the file downloaded from {origin} is incomplete or corrupt: its {algorithm} is "
                             f"{digest}, expected {file_hash}; it was not kept")
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _extract(archive, folder, archive_format):
    """Extract a tar (also .tar.gz, .tar.bz2) or zip archive into `folder`, refusing members that
    would land outside it; False when the archive is of none of the formats tried."""
    formats = ARCHIVE_FORMATS if archive_format == "auto" else (
        () if archive_format is None else (archive_format,) if isinstance(archive_format, str) else archive_format)
    for kind in formats:
        kind = checks.one_of("archive_format", kind, ARCHIVE_FORMATS)
        if kind == "tar" and tarfile.is_tarfile(archive):
            try:
                with tarfile.open(archive) as tar:
                    _extract_tar(tar, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return True
        if kind == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(folder)  # zipfile drops absolute and ".." parts of member names
            return True
    return False


def _extract_tar(tar, folder):
    if hasattr(tarfile, "data_filter"):  # Python 3.9.17+, 3.10.12+, 3.11.4+, 3.12
        tar.extractall(folder, filter="data")
        return
    root = os.path.realpath(folder)
    for member in tar.getmembers():
        where = os.path.realpath(os.path.join(root, member.name))
        if os.path.commonpath([root, where]) != root or member.issym() or member.islnk():
            raise ValueError(f"archive {tar.name} has a member outside its folder or a link: {member.name!r}")
    tar.extractall(folder)

