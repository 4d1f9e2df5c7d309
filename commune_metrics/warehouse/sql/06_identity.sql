-- Contract v2 (issue 13): what a document is (its number and subject), how it was read
-- (legacy encoding converted), which version it replaced and why, and file names as found.
-- Added columns only, so warehouses built before this file keep their rows.

-- The document's own number ("87/BC-UBND") and subject (trích yếu / title lines): with the
-- reporting unit, type and period they say whether a new file is a version of a loaded one.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS doc_number VARCHAR;
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS subject VARCHAR;
-- tcvn3 / vni / cp1258 when the text was converted from a legacy Vietnamese encoding.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS encoding_fixed VARCHAR;
-- source_file of the version this one replaced, and why it counts as the same document.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS replaces VARCHAR;
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS replace_reason VARCHAR;
-- Hash of the normalized text: the same text under another name or in other bytes is unchanged.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS text_sha256 VARCHAR;
-- MinHash of the text's word 5-grams: body similarity when a document has no number or subject.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS text_signature UBIGINT[];
-- When the file arrived: its modification time as found (versions are ordered by issue date,
-- then arrival, never by file name).
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS arrived_at TIMESTAMP;
-- The file name's bytes as found on disk (source_file is their NFC form), and the .zip the
-- file came out of.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS source_file_raw BLOB;
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS container VARCHAR;

ALTER TABLE quarantine_rows ADD COLUMN IF NOT EXISTS source_file_raw BLOB;
ALTER TABLE quarantine_rows ADD COLUMN IF NOT EXISTS container VARCHAR;

ALTER TABLE run_files ADD COLUMN IF NOT EXISTS source_file_raw BLOB;
ALTER TABLE run_files ADD COLUMN IF NOT EXISTS container VARCHAR;

-- A .zip gets its own row ("unpacked"), each member one of its own.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS unpacked INTEGER DEFAULT 0;

-- Document type | reporting unit (warehouse/identity.py slot_of): versions of one document share it.
ALTER TABLE document_versions ADD COLUMN IF NOT EXISTS doc_slot VARCHAR;
UPDATE document_versions
SET doc_slot = coalesce(doc_type, 'other') || '|' || CASE
        WHEN ward_code IS NOT NULL THEN 'ward:' || ward_code
        WHEN commune IS NOT NULL THEN 'commune:' || lower(coalesce(province, '')) || '/' || lower(commune)
        ELSE 'place:?' END
WHERE doc_slot IS NULL;
