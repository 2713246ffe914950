"""The demo's own copy of the rule library, in its data dir.

Saving a rule in the console writes the rule's file back to the rule folder; under
`wendu up --demo` that folder is this copy, never the package's `rules/library/`, which
stays as shipped (and may be read-only, inside site-packages).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import wendu.rules

LIBRARY = Path(wendu.rules.__file__).parent / "library"


def library_copy(data_dir: Path, library: Path = LIBRARY) -> Path:
    """`<data_dir>/rules`, filled from the library with the files it does not have yet: a rule
    edited in the console keeps its edit across restarts, a rule new in the library arrives."""
    target = data_dir / "rules"
    for source in sorted(library.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        copy = target / source.relative_to(library)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    return target.resolve()
