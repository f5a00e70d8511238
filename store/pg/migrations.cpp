// The PostgreSQL schema, as numbered migrations (its own numbering, not SQLite's): each brings
// the schema from version i to i + 1, applied once and recorded in schema_migrations. Never edit
// one that has shipped; add the next.
#include "store/pg/migrations.hpp"

namespace dalil::store::pg::detail {

namespace {

// Column names and types follow the SQLite store's (schema 9) so that a copy is column for
// column; SQLite's INTEGER is bigint, TEXT text, BLOB bytea
// (and a ruleset's source, text holding NUL bytes, which PostgreSQL's text cannot hold, bytea).
// Timestamps stay the text the chain hashes (ISO 8601), so that an entry hashes the same in both
// databases.
const pg_migration list[] = {
    {"the store's tables (records, rulesets, imports, runs, decision sets, retention, audit log)",
     R"(CREATE TABLE rulesets(
         hash text PRIMARY KEY,
         source bytea NOT NULL,  -- the canonical source: its files are separated by NUL bytes
         loaded_at text NOT NULL);
       CREATE TABLE imports(
         import_id bigint PRIMARY KEY,
         file text NOT NULL,
         file_hash text NOT NULL,
         started_at text NOT NULL,
         "rows" bigint, stored bigint, unchanged bigint, rejected bigint,
         received text, reason text, corrected_by text);
       CREATE TABLE applicants(applicant_id text PRIMARY KEY);
       CREATE TABLE records(
         record_id bigint PRIMARY KEY,
         applicant_id text NOT NULL REFERENCES applicants(applicant_id),
         version bigint NOT NULL,
         content_hash text NOT NULL,
         json text NOT NULL,
         import_id bigint NOT NULL REFERENCES imports(import_id),
         latest bigint NOT NULL DEFAULT 1,
         sealed bytea,
         UNIQUE(applicant_id, version));
       CREATE INDEX records_latest ON records(latest, record_id);
       CREATE INDEX records_applicant ON records(applicant_id, latest);
       CREATE INDEX records_import ON records(import_id, record_id);
       CREATE TABLE rejections(
         import_id bigint NOT NULL REFERENCES imports(import_id),
         "row" bigint NOT NULL,
         field text NOT NULL,
         reason text NOT NULL);
       CREATE TABLE runs(
         run_id bigint PRIMARY KEY,
         ruleset_hash text NOT NULL REFERENCES rulesets(hash),
         as_of text NOT NULL,
         filter text NOT NULL,
         started_at text NOT NULL,
         finished_at text,
         status text NOT NULL,
         generation bigint NOT NULL DEFAULT 1,
         UNIQUE(ruleset_hash, as_of, filter, generation));
       CREATE TABLE decision_sets(
         run_id bigint NOT NULL REFERENCES runs(run_id),
         record_id bigint NOT NULL REFERENCES records(record_id),
         input_hash bytea NOT NULL,
         decisions text NOT NULL,
         trace_digest bytea NOT NULL,
         trace text,
         format bigint NOT NULL DEFAULT 1,
         applicant_id text NOT NULL DEFAULT '',
         trace_erased text,
         PRIMARY KEY(run_id, record_id),
         UNIQUE(run_id, applicant_id));
       CREATE TABLE retention(
         kind text PRIMARY KEY,
         days bigint NOT NULL CHECK(days >= 0),
         set_by text NOT NULL,
         set_at text NOT NULL);
       INSERT INTO retention VALUES('records', 1825, 'default', ''), ('traces', 365, 'default', '');
       -- One chain: a fork (two entries after one) breaks the unique prev_hash even if a writer
       -- forgot the advisory lock.
       CREATE TABLE audit(
         seq bigint PRIMARY KEY CHECK(seq >= 1),
         at text NOT NULL,
         actor text NOT NULL,
         action text NOT NULL,
         subject text NOT NULL,
         details text NOT NULL,
         prev_hash text NOT NULL UNIQUE,
         hash text NOT NULL UNIQUE);)"},
    {"the audit log is append-only (an UPDATE, DELETE or TRUNCATE of it is refused)",
     R"(CREATE FUNCTION dalil_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
         END $$;
       CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
         FOR EACH ROW EXECUTE FUNCTION dalil_audit_append_only();
       CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
         FOR EACH STATEMENT EXECUTE FUNCTION dalil_audit_append_only();)"},
    {"the batch's writer lease (one batch at a time; a killed holder's lease expires)",
     R"(CREATE TABLE lease(
         name text PRIMARY KEY,
         token text NOT NULL,
         run_id bigint NOT NULL,
         pid bigint NOT NULL,
         host text NOT NULL,
         since text NOT NULL,
         expires bigint NOT NULL);)"},
    {"batches in shards (dalil batch --shard I/N): a run's shard count, one lease per (run, "
     "shard) naming its holder's machine, its expiry by the server's clock",
     R"(ALTER TABLE runs ADD COLUMN shards bigint NOT NULL DEFAULT 1
         CHECK(shards BETWEEN 1 AND 64);
       ALTER TABLE lease ADD COLUMN machine text NOT NULL DEFAULT '';
       ALTER TABLE lease ADD COLUMN shard_index bigint NOT NULL DEFAULT 1;
       ALTER TABLE lease ADD COLUMN shard_count bigint NOT NULL DEFAULT 1;
       ALTER TABLE lease ADD COLUMN total bigint NOT NULL DEFAULT 0;
       -- The shard (1..n) of an applicant: the first 8 bytes of SHA-256 of the id's UTF-8 bytes,
       -- an unsigned big-endian integer, modulo n, plus 1 (the same on every machine). Those
       -- 8 bytes are kept with each record (shard_key, as a signed bigint: two's complement),
       -- computed once as it is stored, so that a shard's scan does not hash every record.
       CREATE FUNCTION dalil_shard_key(applicant text) RETURNS bigint
         LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
         $$ SELECT ('x' || left(encode(sha256(convert_to(applicant, 'UTF8')), 'hex'), 16))
                   ::bit(64)::bigint $$;
       -- key as an unsigned integer (key + 2^64 when negative) modulo n, in bigint arithmetic:
       -- (key mod n + 2^64 mod n) mod n, with 2^64 mod n = 2 * (2^63 mod n) mod n.
       CREATE FUNCTION dalil_shard(key bigint, n bigint) RETURNS bigint
         LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
         $$ SELECT ((((key % n) + n) % n
                     + CASE WHEN key < 0 THEN ((9223372036854775807 % n + 1) % n) * 2 % n
                            ELSE 0 END) % n) + 1 $$;
       ALTER TABLE records ADD COLUMN shard_key bigint
         GENERATED ALWAYS AS (dalil_shard_key(applicant_id)) STORED;)"},
    {"the identity tables (offices, users, machine clients' tokens, sessions, login attempts "
     "and refusals, the accounts' generation) and the publications, column for column with "
     "SQLite's (schemas 3, 6 and 8)",
     R"(CREATE TABLE offices(
         name text PRIMARY KEY,
         created_at text NOT NULL);
       CREATE TABLE users(
         user_id bigint PRIMARY KEY,  -- max + 1 under the chain's lock, as SQLite's rowid
         name text NOT NULL UNIQUE,
         role text NOT NULL CHECK(role IN ('official','adviser','auditor','admin')),
         office text REFERENCES offices(name),
         lang text NOT NULL CHECK(lang IN ('fr','ar','en')),
         password_hash text NOT NULL,  -- crypto_pwhash_str (Argon2id), never the password
         disabled bigint NOT NULL DEFAULT 0,
         created_at text NOT NULL,
         disabled_at text);
       CREATE TABLE tokens(
         token_id bigint PRIMARY KEY,
         name text NOT NULL,
         role text NOT NULL CHECK(role IN ('official','adviser','auditor')),
         office text REFERENCES offices(name),
         token_hash bytea NOT NULL UNIQUE,  -- SHA-256 of the bearer token, never the token
         created_at text NOT NULL,
         revoked_at text,
         expires bigint);                   -- Unix seconds; NULL: made before tokens expired
       CREATE UNIQUE INDEX tokens_active ON tokens(name) WHERE revoked_at IS NULL;
       CREATE TABLE sessions(
         id_hash bytea PRIMARY KEY,  -- SHA-256 of the cookie value, never the cookie
         user_id bigint NOT NULL REFERENCES users(user_id),
         created bigint NOT NULL,
         last_seen bigint NOT NULL);
       CREATE INDEX sessions_user ON sessions(user_id);
       -- An attempt's id is never reused (a login removes its own attempt by id).
       CREATE TABLE login_attempts(
         attempt_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
         at bigint NOT NULL,
         account bytea NOT NULL,  -- SHA-256 of the name tried
         address text NOT NULL);
       CREATE INDEX login_attempts_account ON login_attempts(account, at);
       CREATE INDEX login_attempts_address ON login_attempts(address, at);
       CREATE INDEX login_attempts_at ON login_attempts(at);
       CREATE TABLE login_throttles(
         kind text NOT NULL CHECK(kind IN ('account','address')),
         key text NOT NULL,  -- the account's SHA-256 in hex, or the address as keyed
         window_start bigint NOT NULL,
         refused bigint NOT NULL,
         PRIMARY KEY(kind, key, window_start));
       CREATE TABLE accounts_generation(
         id bigint PRIMARY KEY CHECK(id = 1),
         generation bigint NOT NULL);
       INSERT INTO accounts_generation VALUES(1, 1);
       CREATE TABLE publications(
         publication_id bigint PRIMARY KEY,
         ruleset_hash text NOT NULL REFERENCES rulesets(hash),
         approved_by text NOT NULL,
         effective_from text NOT NULL,  -- YYYY-MM-DD
         published_at text NOT NULL,    -- UTC, ISO 8601
         actor text NOT NULL,
         note text NOT NULL DEFAULT '');)"},
    {"the server's counter decisions and the officials' reviews over them (as SQLite's schema "
     "4 and 8; rowid keeps the order of insertion that SQLite's rowid gives)",
     R"(CREATE TABLE counter_decisions(
         decision_id text PRIMARY KEY,
         record_id bigint NOT NULL REFERENCES records(record_id),
         applicant_id text NOT NULL REFERENCES applicants(applicant_id),
         office text NOT NULL,
         actor text NOT NULL,
         at text NOT NULL,
         as_of text NOT NULL,
         ruleset_hash text NOT NULL REFERENCES rulesets(hash),
         input_hash text NOT NULL,
         rules text NOT NULL,
         outcomes text NOT NULL,
         trace bigint NOT NULL,
         answer_digest text NOT NULL,
         -- the publication that decided (NULL: none)
         publication_id bigint REFERENCES publications(publication_id),
         rowid bigint GENERATED BY DEFAULT AS IDENTITY UNIQUE);
       CREATE INDEX counter_decisions_applicant ON counter_decisions(applicant_id, at);
       -- Two servers reviewing one decision at once: their writers serialize on the chain's
       -- lock before the supersedes check; a writer that did not would fail here (conflict).
       CREATE TABLE reviews(
         review_id text PRIMARY KEY,
         decision_id text NOT NULL REFERENCES counter_decisions(decision_id),
         seq bigint NOT NULL,
         supersedes text REFERENCES reviews(review_id),
         at text NOT NULL,
         "user" text NOT NULL,
         decisions text NOT NULL,
         observations text NOT NULL,
         rowid bigint GENERATED BY DEFAULT AS IDENTITY UNIQUE,
         UNIQUE(decision_id, seq));
       CREATE INDEX reviews_at ON reviews(at COLLATE "C", rowid);)"},
    {"the chain's append in one statement: dalil_append takes the chain's lock, reads the head "
     "and inserts the entry hashed by the caller against the head it expects, or returns the "
     "head it found",
     R"(CREATE FUNCTION dalil_append(lock_key bigint, new_seq bigint, new_at text,
           new_actor text, new_action text, new_subject text, new_details text, new_prev text,
           new_hash text, OUT appended boolean, OUT head_seq bigint, OUT head_hash text)
         LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
         BEGIN
           -- Held to the end of the caller's transaction, as the lock taken by a statement of
           -- its own was.
           PERFORM pg_advisory_xact_lock(lock_key);
           -- A statement of a VOLATILE function takes a new snapshot (READ COMMITTED): it sees
           -- every append committed before the lock was granted.
           SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit a ORDER BY a.seq DESC LIMIT 1;
           head_seq := coalesce(head_seq, 0);
           head_hash := coalesce(head_hash, repeat('0', 64));
           appended := head_seq = new_seq - 1 AND head_hash = new_prev;
           IF appended THEN
             INSERT INTO audit VALUES(new_seq, new_at, new_actor, new_action, new_subject,
                                      new_details, new_prev, new_hash);
             head_seq := new_seq;
             head_hash := new_hash;
           END IF;
         END $$;)"},
    {"encryption at rest, as SQLite's schemas 7 and 10 (docs/operations.md): the master key's "
     "check value and the wrapped key of the lookup hashes, each applicant's pseudonym under the "
     "keyed hash of their id, one wrapped data key per applicant (NULL once erased), and a "
     "decision set's sealed values; a migrated encrypted store keeps them as they were",
     R"(CREATE TABLE keyring(
         id bigint PRIMARY KEY CHECK(id = 1),
         key_check text NOT NULL,
         lookup_key bytea NOT NULL,  -- the key of the id hashes, wrapped: it outlives rotations
         generation bigint NOT NULL,
         created_at text NOT NULL);
       CREATE TABLE pseudonyms(
         lookup text PRIMARY KEY,
         applicant_id text NOT NULL UNIQUE);
       CREATE TABLE data_keys(
         applicant_id text PRIMARY KEY,
         wrapped bytea,
         generation bigint NOT NULL);
       ALTER TABLE decision_sets ADD COLUMN sealed_decisions bytea;)"},
    {"the counter's decision in one statement: dalil_counter_decision takes the writer's and the "
     "chain's locks, stores the record version, the decision and its entry hashed by the caller "
     "against the record and head it expects, or returns those it found; dalil_counter_import "
     "closes the transaction's import with its entry",
     R"(CREATE FUNCTION dalil_counter_decision(writer_key bigint, chain_key bigint,
           d_id text, d_applicant text, d_office text, d_actor text, d_at text, d_as_of text,
           d_ruleset text, d_input_hash text, d_rules text, d_outcomes text, d_trace bigint,
           d_answer_digest text, d_publication bigint, d_json text, want_record bigint,
           want_import bigint, new_seq bigint, new_details text, new_prev text, new_hash text,
           OUT outcome text, OUT rec_id bigint, OUT rec_version bigint, OUT new_record boolean,
           OUT imp_id bigint, OUT head_seq bigint, OUT head_hash text)
         LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
         DECLARE
           prev_id bigint;
           prev_version bigint;
           prev_hash text;
         BEGIN
           -- Held to the end of the caller's transaction, in the order imports take them.
           PERFORM pg_advisory_xact_lock(writer_key), pg_advisory_xact_lock(chain_key);
           imp_id := want_import;
           -- The decision id first: a duplicate stores nothing, not even its record.
           IF EXISTS(SELECT 1 FROM counter_decisions c WHERE c.decision_id = d_id) THEN
             outcome := 'exists';
             RETURN;
           END IF;
           -- The record: the applicant's latest version when its content is the same, a new
           -- version (max + 1, under the writer's lock) otherwise. The entry names its id.
           SELECT r.record_id, r.version, r.content_hash INTO prev_id, prev_version, prev_hash
             FROM records r WHERE r.applicant_id = d_applicant AND r.latest = 1;
           new_record := prev_hash IS DISTINCT FROM d_input_hash;
           IF new_record THEN
             SELECT coalesce(max(r.record_id), 0) + 1 INTO rec_id FROM records r;
             rec_version := coalesce(prev_version, 0) + 1;
           ELSE
             rec_id := prev_id;
             rec_version := prev_version;
           END IF;
           SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit a ORDER BY a.seq DESC LIMIT 1;
           head_seq := coalesce(head_seq, 0);
           head_hash := coalesce(head_hash, repeat('0', 64));
           IF rec_id <> want_record OR head_seq <> new_seq - 1 OR head_hash <> new_prev THEN
             outcome := 'moved';
             RETURN;
           END IF;
           IF new_record THEN
             -- The transaction's import (file 'counter'), created by its first new record.
             IF imp_id = 0 THEN
               SELECT coalesce(max(i.import_id), 0) + 1 INTO imp_id FROM imports i;
               INSERT INTO imports(import_id, file, file_hash, started_at)
                 VALUES(imp_id, 'counter', '', d_at);
             END IF;
             INSERT INTO applicants VALUES(d_applicant) ON CONFLICT (applicant_id) DO NOTHING;
             UPDATE records SET latest = 0 WHERE record_id = prev_id;
             INSERT INTO records(record_id, applicant_id, version, content_hash, json, import_id)
               VALUES(rec_id, d_applicant, rec_version, d_input_hash, d_json, imp_id);
           END IF;
           INSERT INTO counter_decisions(decision_id, record_id, applicant_id, office, actor, at,
               as_of, ruleset_hash, input_hash, rules, outcomes, trace, answer_digest,
               publication_id)
             VALUES(d_id, rec_id, d_applicant, d_office, d_actor, d_at, d_as_of, d_ruleset,
                    d_input_hash, d_rules, d_outcomes, d_trace, d_answer_digest, d_publication);
           INSERT INTO audit VALUES(new_seq, d_at, d_actor, 'counter_decision', d_id,
                                    new_details, new_prev, new_hash);
           head_seq := new_seq;
           head_hash := new_hash;
           outcome := 'stored';
         END $$;
       CREATE FUNCTION dalil_counter_import(chain_key bigint, imp bigint, imp_rows bigint,
           imp_hash text, new_seq bigint, new_at text, new_details text, new_prev text,
           new_hash text, OUT appended boolean, OUT head_seq bigint, OUT head_hash text)
         LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
         BEGIN
           SELECT d.appended, d.head_seq, d.head_hash INTO appended, head_seq, head_hash
             FROM dalil_append(chain_key, new_seq, new_at, 'dalil', 'import', imp::text,
                               new_details, new_prev, new_hash) d;
           IF appended THEN
             UPDATE imports SET "rows" = imp_rows, stored = imp_rows, unchanged = 0,
                                rejected = 0, file_hash = imp_hash
               WHERE import_id = imp;
           END IF;
         END $$;)"},
    {"the counter on an encrypted store: dalil_counter_decision takes the keyed hash of the "
     "applicant's id, the pseudonym, version and key generation the caller sealed the record "
     "for and, for a new applicant, its wrapped data key; it stores the pseudonym, the data key, "
     "the sealed record, the decision and its entry only when the keyring's generation, the "
     "applicant's pseudonym (or, for a new one, the last pseudonym given) and the record are "
     "those the caller expected, and returns what it found otherwise; a plain store's caller "
     "expects generation 0 (no keyring)",
     R"(DROP FUNCTION dalil_counter_decision(bigint, bigint, text, text, text, text, text, text,
           text, text, text, text, bigint, text, bigint, text, bigint, bigint, bigint, text, text,
           text);
       -- The last pseudonym given (erased applicants' included), bytewise, by an index.
       CREATE INDEX data_keys_bytewise ON data_keys(applicant_id COLLATE "C");
       CREATE INDEX pseudonyms_bytewise ON pseudonyms(applicant_id COLLATE "C");
       CREATE FUNCTION dalil_counter_decision(writer_key bigint, chain_key bigint,
           d_id text, d_applicant text, d_office text, d_actor text, d_at text, d_as_of text,
           d_ruleset text, d_input_hash text, d_rules text, d_outcomes text, d_trace bigint,
           d_answer_digest text, d_publication bigint, d_json text, want_record bigint,
           want_import bigint, new_seq bigint, new_details text, new_prev text, new_hash text,
           want_generation bigint, d_lookup text, want_last text, want_version bigint,
           d_sealed bytea, d_wrapped bytea,
           OUT outcome text, OUT rec_id bigint, OUT rec_version bigint, OUT new_record boolean,
           OUT imp_id bigint, OUT head_seq bigint, OUT head_hash text,
           OUT found_generation bigint, OUT found_applicant text, OUT found_wrapped bytea,
           OUT found_key_generation bigint, OUT last_given text)
         LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
         DECLARE
           who text := d_applicant;
           prev_id bigint;
           prev_version bigint;
           prev_hash text;
           expected boolean := true;
         BEGIN
           -- Held to the end of the caller's transaction, in the order imports take them; a key
           -- rotation and an erasure take the writer's lock too, so what is read below stays
           -- as it is until the commit.
           PERFORM pg_advisory_xact_lock(writer_key), pg_advisory_xact_lock(chain_key);
           imp_id := want_import;
           -- The decision id first: a duplicate stores nothing, not even its record.
           IF EXISTS(SELECT 1 FROM counter_decisions c WHERE c.decision_id = d_id) THEN
             outcome := 'exists';
             RETURN;
           END IF;
           -- The key generation the caller sealed (and wrapped a new data key) for: a rotation
           -- by another process since, or a keyring bound since (0: none), moves it.
           found_generation := coalesce((SELECT k.generation FROM keyring k WHERE k.id = 1), 0);
           expected := found_generation = want_generation;
           IF d_lookup IS NOT NULL THEN
             -- An encrypted store: the applicant by the keyed hash of their id. An erased
             -- applicant's pseudonym is gone: they are new again, under a new pseudonym.
             SELECT p.applicant_id INTO found_applicant FROM pseudonyms p
               WHERE p.lookup = d_lookup;
             IF found_applicant IS NULL THEN
               SELECT max(x.a COLLATE "C") INTO last_given FROM (
                 SELECT max(k.applicant_id COLLATE "C") AS a FROM data_keys k
                 UNION ALL SELECT max(p.applicant_id COLLATE "C") FROM pseudonyms p) x;
               last_given := coalesce(last_given, '');
               expected := expected AND d_wrapped IS NOT NULL AND last_given = want_last;
             ELSE
               SELECT k.wrapped, k.generation INTO found_wrapped, found_key_generation
                 FROM data_keys k WHERE k.applicant_id = found_applicant;
               who := found_applicant;
               expected := expected AND d_wrapped IS NULL AND found_applicant = d_applicant
                           AND found_wrapped IS NOT NULL;
             END IF;
           END IF;
           -- The record: the applicant's latest version when its content is the same, a new
           -- version (max + 1, under the writer's lock) otherwise. The entry names its id.
           SELECT r.record_id, r.version, r.content_hash INTO prev_id, prev_version, prev_hash
             FROM records r WHERE r.applicant_id = who AND r.latest = 1;
           new_record := prev_hash IS DISTINCT FROM d_input_hash;
           IF new_record THEN
             SELECT coalesce(max(r.record_id), 0) + 1 INTO rec_id FROM records r;
             rec_version := coalesce(prev_version, 0) + 1;
             -- A sealed record is bound to its version.
             expected := expected AND (d_lookup IS NULL OR rec_version = want_version);
           ELSE
             rec_id := prev_id;
             rec_version := prev_version;
           END IF;
           SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit a ORDER BY a.seq DESC LIMIT 1;
           head_seq := coalesce(head_seq, 0);
           head_hash := coalesce(head_hash, repeat('0', 64));
           IF NOT expected OR rec_id <> want_record OR head_seq <> new_seq - 1
              OR head_hash <> new_prev THEN
             outcome := 'moved';
             RETURN;
           END IF;
           IF d_lookup IS NOT NULL AND found_applicant IS NULL THEN
             INSERT INTO pseudonyms(lookup, applicant_id) VALUES(d_lookup, d_applicant);
             INSERT INTO data_keys(applicant_id, wrapped, generation)
               VALUES(d_applicant, d_wrapped, want_generation);
           END IF;
           IF new_record THEN
             -- The transaction's import (file 'counter'), created by its first new record.
             IF imp_id = 0 THEN
               SELECT coalesce(max(i.import_id), 0) + 1 INTO imp_id FROM imports i;
               INSERT INTO imports(import_id, file, file_hash, started_at)
                 VALUES(imp_id, 'counter', '', d_at);
             END IF;
             INSERT INTO applicants VALUES(who) ON CONFLICT (applicant_id) DO NOTHING;
             UPDATE records SET latest = 0 WHERE record_id = prev_id;
             INSERT INTO records(record_id, applicant_id, version, content_hash, json, import_id,
                                 sealed)
               VALUES(rec_id, who, rec_version, d_input_hash,
                      CASE WHEN d_lookup IS NULL THEN d_json ELSE '' END, imp_id,
                      CASE WHEN d_lookup IS NULL THEN NULL ELSE d_sealed END);
           END IF;
           INSERT INTO counter_decisions(decision_id, record_id, applicant_id, office, actor, at,
               as_of, ruleset_hash, input_hash, rules, outcomes, trace, answer_digest,
               publication_id)
             VALUES(d_id, rec_id, who, d_office, d_actor, d_at, d_as_of, d_ruleset,
                    d_input_hash, d_rules, d_outcomes, d_trace, d_answer_digest, d_publication);
           INSERT INTO audit VALUES(new_seq, d_at, d_actor, 'counter_decision', d_id,
                                    new_details, new_prev, new_hash);
           head_seq := new_seq;
           head_hash := new_hash;
           outcome := 'stored';
         END $$;)"},
    {"reviews on an encrypted store, as SQLite's schema 12: a review keeps in plain only each "
     "decision's rule and outcome (what the override rates count); the official's decisions "
     "whole and the applicant's observations, sealed together under the applicant's data key "
     "(store/sealing.hpp, seal_review; NULL: a plain store, whose reviews are as before)",
     R"(ALTER TABLE reviews ADD COLUMN sealed bytea;)"},
    {"the browsers a user has signed in from, as SQLite's schema 14 (docs/identity.md, \"Known "
     "devices\"): a device cookie's SHA-256 and the SHA-256 of the name it signed in as, with "
     "the time of its latest sign-in",
     R"(CREATE TABLE login_devices(
          device bytea NOT NULL,
          account bytea NOT NULL,
          last_login bigint NOT NULL,
          PRIMARY KEY(device, account));
        CREATE INDEX login_devices_account ON login_devices(account, last_login);
        CREATE INDEX login_devices_last ON login_devices(last_login);)"},
    {"the counter's decisions by time, as SQLite's schema 15, for the statistics of a month "
     "(GET /api/v1/stats?month=; reviews_at exists since the reviews' table), and each month's "
     "figures as first released, kept: every server process serves those",
     R"(CREATE INDEX counter_decisions_at ON counter_decisions(at COLLATE "C");
        CREATE TABLE counter_month_figures(
          month text PRIMARY KEY,
          figures text NOT NULL,
          at text NOT NULL);)"},
    {"each month's figures kept is vouched for by a counter_figures entry (their digest, written "
     "with the row), as SQLite's schema 16: the months kept before are vouched for as found, by "
     "entries marked \"upgrade\"",
     "SELECT 1", true},
};

}  // namespace

std::span<const pg_migration> migrations() {
  return list;
}

}  // namespace dalil::store::pg::detail
