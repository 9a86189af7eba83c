"""What codegen trusts in a workspace, and how it proves that state under ``.codegen/`` is its own.

A workspace is attacker-controlled input: a cloned repository can carry any ``.codegen/`` it likes.
So every file codegen later acts on (the crash journal, checkpoint manifests, run records, the
index cache) is sealed with an HMAC under a per-user key kept outside every workspace
(``key``); a file without a valid seal is ignored with one warning (``notices``). The files
codegen reads for its own use are read as regular files only, never through a symlink, with a
size cap (``files``; a workspace's ignore files: ``ignore_files``), and its state folders must be real
folders inside the workspace (``files``).
"""
