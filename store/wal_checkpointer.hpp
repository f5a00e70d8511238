// Checkpoints of a WAL store off the connection that commits on a latency path (the server's
// writer): docs/operations.md, "Checkpoints".
//
// SQLite checkpoints a WAL database from the connection whose commit took the WAL past 1,000
// frames: that commit then copies every frame into the database file and syncs the WAL and the
// file (two fdatasync calls: 20-30 ms on a virtual machine's disk for 16 MiB of frames), and
// every request waiting for that commit waits for them. A wal_checkpointer takes the writer's
// checkpoints over: a thread with a connection of its own copies the frames and syncs
// (SQLITE_CHECKPOINT_PASSIVE, which never blocks the writer), again while the writer keeps
// appending; once a pass has left at most `finish_frames` frames behind, the writer checkpoints
// those few itself after its next commit (once that commit's requests are answered), so that its
// next transaction starts the WAL again from its beginning (a WAL that a writer never finds wholly
// checkpointed only grows). Should the thread fall behind (readers holding old snapshots, a slow
// disk), the writer checkpoints alone once the WAL holds `force_frames` frames, as SQLite would
// have. Durability is unchanged: commits are as before (synchronous=NORMAL), and a checkpoint syncs
// the WAL before it copies.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/result.hpp"
#include "store/sqlite.hpp"

namespace dalil::store {

class wal_checkpointer {
 public:
  struct limits {
    int pass_frames = 256;     // the thread passes when this many frames are not yet copied
    int start_frames = 4000;   // from this many frames in the WAL (64 MiB of 16 KiB pages), it
                               // passes until at most finish_frames are left, which the writer
    int finish_frames = 32;    // then checkpoints itself (a short one), and the WAL starts again
    int force_frames = 16000;  // the writer checkpoints alone past this (256 MiB of 16 KiB pages)
  };
  /// What happened so far (for the server's log at its stop, and the tests).
  struct counts {
    std::uint64_t passes = 0;            // the thread's checkpoints
    std::uint64_t busy = 0;              // of which found another checkpoint under way
    std::uint64_t finishes = 0;          // the writer's short checkpoints after a pass
    std::uint64_t completed = 0;         // those (and forced ones) that left no frame behind
    std::uint64_t forced = 0;            // the writer's checkpoints past force_frames
    std::uint64_t skipped = 0;           // writer's checkpoints put off: a pass did not end soon
    std::uint64_t restarts = 0;          // times the WAL started again from its beginning
    std::int64_t largest_finish = 0;     // the most frames a writer's short checkpoint had to copy
    std::int64_t longest_finish_us = 0;  // the longest a writer's checkpoint took
    std::int64_t largest_wal = 0;        // the most frames the WAL held after a commit
    std::int64_t frames = 0;             // frames the writer's commits appended
  };

  /// Takes over the checkpoints of `writer` (a connection to the WAL store at `path`, which must
  /// outlive this object): installs its WAL hook (SQLite's automatic checkpoint is then off on
  /// it) and starts the thread with its own connection. Errors: the thread's connection.
  static result<std::unique_ptr<wal_checkpointer>> attach(database& writer, const std::string& path,
                                                          limits l);
  static result<std::unique_ptr<wal_checkpointer>> attach(database& writer,
                                                          const std::string& path) {
    return attach(writer, path, limits{});
  }
  /// Stops the thread and gives the writer its automatic checkpoint back.
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  counts snapshot() const;
  /// On the writer's thread, once the requests of its last commit are answered: the short
  /// checkpoint that commit made due, if any (else nothing). One not run by the next commit runs
  /// in that commit.
  void run_due();
  /// Whether the thread has nothing to do (no pass under way or asked for): for the tests.
  bool idle() const;

 private:
  wal_checkpointer(database& writer, limits l) : writer_(writer), limits_(l) {}
  /// sqlite3_wal_hook's callback, on the writer's thread after each commit.
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void after_commit(int frames);
  enum class due : std::uint8_t { none, finish, force };
  void run();
  /// Syncs the database file through the thread's connection (its VFS): an SQLite code.
  int sync_database();
  /// The frames the writer may checkpoint itself now (under mutex_).
  std::int64_t finishable_frames() const;

  database& writer_;
  database own_;
  limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;    // the thread: a pass is asked for, or the end
  std::condition_variable passed_;  // the writer: the thread's pass has ended
  bool requested_ = false;
  bool passing_ = false;  // the thread's checkpoint is under way
  bool holding_ = false;  // the writer's is (or waits for the thread's to end)
  bool stopping_ = false;
  std::uint64_t generation_ = 0;   // a new one each time the WAL starts again from its beginning
  std::int64_t checkpointed_ = 0;  // frames the thread's last pass of this generation copied
  int closing_passes_ = 0;         // passes of this generation once it held start_frames
  int last_frames_ = 0;            // the WAL's frames after the writer's last commit
  std::int64_t retry_at_ = 0;      // after a finish or a forced checkpoint that left frames behind
  due due_ = due::none;            // the writer's checkpoint that its last commit made due
  std::int64_t due_left_ = 0;      // the frames it had left to copy
  counts counts_;
  std::thread thread_;
};

}  // namespace dalil::store
