"""`commune-metrics review`: a local web page (127.0.0.1 only) where analysts check every figure
against its evidence and confirm, correct or reject it with the keyboard.

    data.py        what the pages show, read from the analysts' snapshot
    pages.py       the HTML (every document string escaped; no remote resources)
    page_image.py  a PDF page (or scan) rendered with pypdfium2, the fact's span marked
    actions.py     confirm / correct / reject -> the corrections layer, through the writer lock
    server.py      the HTTP server: localhost only, CSRF token on every write, strict CSP
    labels.py      `commune-metrics export-labels`: reviewed facts as gold JSONL

Same layer as report/: reads the warehouse (and readers, for page images), imported only by
the CLI.
"""
