/**
 * pubsub.sqlite's tables and the statements every operation runs, prepared once per connection.
 *
 * Layout (all tables prefixed `pubsub_`, so the file can also hold state.sqlite's tables; `groups`
 * alone would also be an SQL keyword):
 * - `pubsub_messages`: the log. `seq` is AUTOINCREMENT so a sequence number is never reused after
 *   deletes, and since every insert holds the write lock, a row committed later always has a
 *   higher `seq`: a group's cursor never skips a message.
 * - `pubsub_groups`: one row per (topic, consumer group); `cursor` = the highest `seq` handed out.
 * - `pubsub_leases`: messages handed out and not yet acknowledged. `visible_at` is when another
 *   consumer may take it; `attempts` counts deliveries and fences stale nacks and releases.
 * - `pubsub_schema`: the schema version, for later migrations.
 */
import type Database from "better-sqlite3";

export const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly string[] = [
  // version 1
  `CREATE TABLE IF NOT EXISTS pubsub_messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     topic TEXT NOT NULL,
     data BLOB NOT NULL,
     content_type TEXT,
     metadata TEXT,
     published_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS pubsub_messages_topic_seq ON pubsub_messages (topic, seq);
   CREATE TABLE IF NOT EXISTS pubsub_groups (
     topic TEXT NOT NULL,
     consumer_group TEXT NOT NULL,
     cursor INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (topic, consumer_group)
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS pubsub_leases (
     topic TEXT NOT NULL,
     consumer_group TEXT NOT NULL,
     seq INTEGER NOT NULL,
     visible_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     PRIMARY KEY (topic, consumer_group, seq)
   ) WITHOUT ROWID;
   CREATE INDEX IF NOT EXISTS pubsub_leases_visible ON pubsub_leases (topic, consumer_group, visible_at);`,
];

/** Bring the file to SCHEMA_VERSION under the write lock (several processes may open it at once). */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS pubsub_schema (version INTEGER NOT NULL)");
    const row = db.prepare<[], { version: number }>("SELECT version FROM pubsub_schema").get();
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`pubsub.sqlite: the database has schema version ${current}, newer than this Tandem understands (${SCHEMA_VERSION})`);
    }
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    if (row === undefined) db.prepare("INSERT INTO pubsub_schema (version) VALUES (?)").run(SCHEMA_VERSION);
    else if (current < SCHEMA_VERSION) db.prepare("UPDATE pubsub_schema SET version = ?").run(SCHEMA_VERSION);
  }).immediate();
}

export interface MessageRow {
  seq: number;
  data: Buffer;
  content_type: string | null;
  metadata: string | null;
}
export interface LeasedRow extends MessageRow {
  attempts: number;
}

/**
 * Positional parameters throughout (cheaper to bind than named ones). Row-at-a-time work on the
 * hot path (leasing a claimed batch, deleting acked leases) is one statement per batch, the
 * sequence numbers passed as a JSON array.
 */
export interface Statements {
  /** topic, data, content type, metadata JSON, published at */
  insertMessage: Database.Statement<[string, Buffer, string, string | null, number]>;
  /** topic, group, now */
  ensureGroup: Database.Statement<[string, string, number]>;
  /** topic, group */
  cursor: Database.Statement<[string, string], { cursor: number }>;
  /** cursor, topic, group */
  setCursor: Database.Statement<[number, string, string]>;
  /** topic, group, now: whether a claim would find anything. Read only, so an idle poll never takes the write lock. */
  probe: Database.Statement<[string, string, number, string, string, string], { ready: number }>;
  /** topic, group, now, limit: leases expired or nacked, with their message. */
  expired: Database.Statement<[string, string, number, number], LeasedRow>;
  /** topic, group, now, limit: leases whose message is gone (deleted by maxRetention). */
  orphans: Database.Statement<[string, string, number, number], { seq: number }>;
  /** topic, group, until, topic, cursor, limit: lease the next messages after the cursor. */
  leaseFresh: Database.Statement<[string, string, number, string, number, number]>;
  /** topic, cursor, limit: the messages leaseFresh just leased. */
  fresh: Database.Statement<[string, number, number], MessageRow>;
  /** until, topic, group, seq */
  relLease: Database.Statement<[number, string, string, number]>;
  /** topic, group, JSON array of seqs */
  ack: Database.Statement<[string, string, string]>;
  /** at, topic, group, seq, attempts: a lease still at that attempt becomes visible at `at` (nack, renew, release). */
  setVisible: Database.Statement<[number, string, string, number, number]>;
  groupLows: Database.Statement<[], { topic: string; low: number }>;
  /** topic, low, topic */
  deleteAcked: Database.Statement<[string, number, string]>;
  /** published before */
  deleteOlderThan: Database.Statement<[number]>;
}

export function prepare(db: Database.Database): Statements {
  const group = "topic = ? AND consumer_group = ?";
  return {
    insertMessage: db.prepare("INSERT INTO pubsub_messages (topic, data, content_type, metadata, published_at) VALUES (?, ?, ?, ?, ?)"),
    // A new group starts at 0: it gets every message still retained, as a Redis Streams group created at 0.
    ensureGroup: db.prepare("INSERT OR IGNORE INTO pubsub_groups (topic, consumer_group, cursor, created_at) VALUES (?, ?, 0, ?)"),
    cursor: db.prepare(`SELECT cursor FROM pubsub_groups WHERE ${group}`),
    setCursor: db.prepare(`UPDATE pubsub_groups SET cursor = ? WHERE ${group}`),
    probe: db.prepare(
      `SELECT EXISTS (SELECT 1 FROM pubsub_leases WHERE ${group} AND visible_at <= ?)
           OR EXISTS (SELECT 1 FROM pubsub_messages WHERE topic = ?
                        AND seq > (SELECT cursor FROM pubsub_groups WHERE ${group})) AS ready`,
    ),
    expired: db.prepare(
      `SELECT l.seq AS seq, l.attempts AS attempts, m.data AS data, m.content_type AS content_type, m.metadata AS metadata
         FROM pubsub_leases l JOIN pubsub_messages m ON m.seq = l.seq
        WHERE l.topic = ? AND l.consumer_group = ? AND l.visible_at <= ?
        ORDER BY l.visible_at, l.seq LIMIT ?`,
    ),
    orphans: db.prepare(
      `SELECT seq FROM pubsub_leases l WHERE ${group} AND visible_at <= ?
          AND NOT EXISTS (SELECT 1 FROM pubsub_messages m WHERE m.seq = l.seq) LIMIT ?`,
    ),
    leaseFresh: db.prepare(
      `INSERT OR REPLACE INTO pubsub_leases (topic, consumer_group, seq, visible_at, attempts)
       SELECT ?, ?, seq, ?, 1 FROM pubsub_messages WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    fresh: db.prepare("SELECT seq, data, content_type, metadata FROM pubsub_messages WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?"),
    relLease: db.prepare(`UPDATE pubsub_leases SET visible_at = ?, attempts = attempts + 1 WHERE ${group} AND seq = ?`),
    ack: db.prepare(`DELETE FROM pubsub_leases WHERE ${group} AND seq IN (SELECT value FROM json_each(?))`),
    setVisible: db.prepare(`UPDATE pubsub_leases SET visible_at = ? WHERE ${group} AND seq = ? AND attempts = ?`),
    groupLows: db.prepare("SELECT topic, min(cursor) AS low FROM pubsub_groups GROUP BY topic"),
    // Acknowledged by every group of the topic: at or below each group's cursor and leased by none.
    // The NOT IN subquery is not correlated, so SQLite builds it once per statement.
    deleteAcked: db.prepare(
      `DELETE FROM pubsub_messages WHERE topic = ? AND seq <= ?
          AND seq NOT IN (SELECT seq FROM pubsub_leases WHERE topic = ?)`,
    ),
    // seq order follows publish time, so this walks from the oldest row and stops at the first young one.
    deleteOlderThan: db.prepare(
      `DELETE FROM pubsub_messages WHERE seq < coalesce(
          (SELECT seq FROM pubsub_messages WHERE published_at >= ? ORDER BY seq LIMIT 1),
          (SELECT max(seq) + 1 FROM pubsub_messages))`,
    ),
  };
}
