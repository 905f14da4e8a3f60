-- The history's schema after m001_initial, m002_fts, m003_fts_prefix, m004_fts_skip_streaming, m005_writer_pid, m006_message_tree, m007_tool_call_id, m008_chat_tools, m009_comparisons, m013_attachments; made by tests/test_migrate.py.
-- FTS5's shadow tables and sqlite-utils' migrations table are left out. One statement per line.
CREATE INDEX chats_archived_updated_at ON chats(archived, updated_at);
CREATE INDEX chats_updated_at ON chats(updated_at);
CREATE INDEX comparisons_chat ON comparisons(chat_id, id);
CREATE INDEX message_attachments_sha256 ON message_attachments(sha256);
CREATE INDEX messages_chat_id ON messages(chat_id, id);
CREATE INDEX messages_parent ON messages(parent_id, id);
CREATE INDEX messages_streaming ON messages(id) WHERE status = 'streaming';
CREATE TABLE attachments ( sha256 TEXT PRIMARY KEY, kind TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER, height INTEGER, data BLOB NOT NULL, created_at TEXT NOT NULL );
CREATE TABLE chats ( id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', model TEXT NOT NULL, system_prompt TEXT, params TEXT NOT NULL DEFAULT '{}', archived INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL , current_id INTEGER, tools TEXT);
CREATE VIRTUAL TABLE chats_fts USING fts5( title, content='chats', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3' );
CREATE TABLE comparisons ( id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE, root_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, models TEXT NOT NULL, leaves TEXT NOT NULL, chosen_id INTEGER, created_at TEXT NOT NULL );
CREATE TABLE message_attachments ( message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, position INTEGER NOT NULL, sha256 TEXT NOT NULL REFERENCES attachments(sha256), name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', PRIMARY KEY (message_id, position) );
CREATE TABLE messages ( id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', reasoning TEXT NOT NULL DEFAULT '', model TEXT, status TEXT NOT NULL, error TEXT, created_at TEXT NOT NULL, finished_at TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, ttft_ms INTEGER, duration_ms INTEGER, tool_calls TEXT , writer_pid INTEGER, parent_id INTEGER, depth INTEGER NOT NULL DEFAULT 1, tool_call_id TEXT);
CREATE VIRTUAL TABLE messages_fts USING fts5( content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3' );
CREATE TRIGGER chats_fts_ad AFTER DELETE ON chats BEGIN INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title); END;
CREATE TRIGGER chats_fts_ai AFTER INSERT ON chats BEGIN INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title); END;
CREATE TRIGGER chats_fts_au AFTER UPDATE OF title ON chats BEGIN INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title); INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title); END;
CREATE TRIGGER message_attachments_gc AFTER DELETE ON message_attachments WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE sha256 = old.sha256) BEGIN DELETE FROM attachments WHERE sha256 = old.sha256; END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END;
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, status ON messages WHEN old.status != 'streaming' AND new.status != 'streaming' AND old.content IS NOT new.content BEGIN INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END;
CREATE TRIGGER messages_fts_finished AFTER UPDATE OF status ON messages WHEN old.status = 'streaming' AND new.status != 'streaming' BEGIN INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END;
CREATE TRIGGER messages_fts_restreamed AFTER UPDATE OF status ON messages WHEN old.status != 'streaming' AND new.status = 'streaming' BEGIN INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END;
