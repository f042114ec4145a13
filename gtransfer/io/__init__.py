"""Files in and out, the same way everywhere: atomic writes, digests, canonical JSON, array files,
checkpoints and the code version that produced a file.

Nothing here knows about graphs, images or metrics; every other layer may import it.
"""

from gtransfer.io.atomic import atomic_write, save_npy, save_npz, write_json, write_text
from gtransfer.io.canonical import canonical_json, canonicalize
from gtransfer.io.digests import file_digest, file_sha256

__all__ = [
    "atomic_write", "save_npy", "save_npz", "write_json", "write_text",
    "canonical_json", "canonicalize", "file_digest", "file_sha256",
]
