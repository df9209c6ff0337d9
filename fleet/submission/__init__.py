"""Climate-finance submission package: versioned JSON (field list in `fields.py`), XLSX, PDF, SHA-256 manifest."""
