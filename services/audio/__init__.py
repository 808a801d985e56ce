"""Recordings as heard (DESIGN.md "Audio"): a projection of the ledger into S3.

Pure: ``codec`` (G.711/PCM decode, WAV framing), ``mixer`` (lanes, resampling runs, canvas),
``render`` (incremental interpretation → PCM up to a settled horizon), ``crypto`` (chunked
AES-GCM), ``recording`` (PCM → encrypted multipart parts with hashes), ``job`` (one session).
Adapters: ``source`` (ledger entries + raw segments), ``store`` (S3 multipart, SQL), ``models``.
Entry points: ``consumer`` (``voxledger run``), ``rebuild``, ``cli`` (``voxledger audio``).
"""
