// Fuzz target of the record store's reader (src/store/record_file.h, store_codec.h, record_store.h,
// store_cursor.h): whatever bytes a segment file holds, opening the store (which recovers: cuts
// torn or corrupt tails), reading it with a cursor, truncating it where a cursor found corruption
// and reading it again must not crash, leak, hit undefined behaviour or allocate absurd memory,
// and must keep the store's promises (checked below; a broken one abort()s).
//
// The first input byte selects how the rest becomes segment files (mode = byte % 4):
//   0  the rest is segment file 1, as is;
//   1  the rest follows a valid segment header written by the library (past the magic at once);
//   2  the rest is split into segment files 1 and 2 after the first trailer ("duosync-end\n"),
//      else in halves;
//   3  [flags] ([u16 length] [record payload])*: the harness frames each payload itself (valid
//      CRC), after a library header, so the decoder sees arbitrary protobuf bytes; flags & 1
//      seals the segment (the last payload becomes the footer frame, followed by the trailer).
// The raw bytes (and each segment file) are also fed to ParseFrame in a loop, and each record
// that parses to RecordDecoder::Decode.
//
// Promises checked for each input (Fail() aborts with what broke):
//   - a frame that parses is within the data and frames back to the same bytes; each decoded
//     transaction has its tables, rows as wide as them, keys within them, and survives
//     encode + decode unchanged;
//   - Open succeeds (recovery copes with any bytes) and a cursor reads from start() to the end or
//     to a DataLoss; after TruncateAt(that location) a second pass reads without DataLoss
//     (abort() if it repeats at the same location, or appears elsewhere);
//   - a segment that was never sealed reads to the store's end();
//   - the transaction appended next (as a link does after recovery) is the last one a cursor
//     reads, and the cursor ends at end();
//   - reopening the store changes none of its stats, and it then reads without DataLoss.
// Segment file 1 that ends like a sealed segment also gets that trailer as its index file
// (00000000000000000001.idx), as the store writes it when it seals a segment, so the indexed
// path is fuzzed too (the index is trusted only when its footer names the segment's size).
//
// Built two ways (tests/fuzz/CMakeLists.txt): with Clang and -DDUOSYNC_FUZZ=ON as a libFuzzer
// target (tests/fuzz/run_fuzz.sh), and otherwise as `record_reader_corpus`, a test that replays
// tests/fuzz/corpus plus deterministic mutations of each seed (DUOSYNC_FUZZ_REPLAY_MAIN).
// `record_reader_corpus --write-seeds DIR` regenerates the seeds.
// One file of about 950 lines on purpose: the replay build must check exactly the promises the
// fuzz build checks, and the seeds are written by the same code that frames the inputs.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/gtid_position.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"
#include "store/record_file.h"
#include "store/record_store.h"
#include "store/store_codec.h"
#include "store/store_cursor.h"

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
#include <chrono>
#endif

namespace {

using duosync::DecodedRecord;
using duosync::Frame;
using duosync::FrameStatus;
using duosync::GtidPosition;
using duosync::RecordDecoder;
using duosync::RecordEncoder;
using duosync::RecordLocation;
using duosync::RecordStore;
using duosync::RowChange;
using duosync::RowOp;
using duosync::StoreOptions;
using duosync::StoreStats;
using duosync::TableSchema;
using duosync::Transaction;
using duosync::Value;

constexpr char kSegment1[] = "00000000000000000001.seg";
constexpr char kSegment2[] = "00000000000000000002.seg";

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
// The input being run, for the replay build's report of a failure.
const std::string* g_input = nullptr;
std::string g_input_label;
#endif

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "record_reader_fuzz: BROKEN PROMISE: %s\n", what.c_str());
#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
  if (g_input != nullptr) {
    const std::string path = absl::StrCat("/tmp/record_reader_corpus-failure-", getpid(), ".bin");
    if (FILE* f = fopen(path.c_str(), "wb")) {
      fwrite(g_input->data(), 1, g_input->size(), f);
      fclose(f);
    }
    fprintf(stderr, "record_reader_fuzz: input %s saved as %s\n", g_input_label.c_str(), path.c_str());
  }
#endif
  fflush(stderr);
  abort();
}

// ---- files ---------------------------------------------------------------------------------------

void WriteFile(const std::string& path, absl::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Fail(absl::StrCat("harness: cannot create ", path, ": ", strerror(errno)));
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail(absl::StrCat("harness: cannot write ", path, ": ", strerror(errno)));
    data.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
}

std::string ReadFile(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail(absl::StrCat("harness: cannot open ", path, ": ", strerror(errno)));
  char buf[1 << 14];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail(absl::StrCat("harness: cannot read ", path, ": ", strerror(errno)));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Empties a store directory (it holds only files).
void ClearDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) Fail(absl::StrCat("harness: cannot list ", dir));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& n : names) ::unlink((dir + "/" + n).c_str());
}

bool IsWritableDir(const char* path) {
  struct stat st;
  return path != nullptr && *path != '\0' && ::stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
         ::access(path, W_OK) == 0;
}

// A fresh temporary directory; on tmpfs when there is one (the store fsyncs).
std::string MakeTempDir(const char* tag) {
  const char* base = getenv("DUOSYNC_FUZZ_TMPDIR");
  if (!IsWritableDir(base)) base = "/dev/shm";
  if (!IsWritableDir(base)) base = getenv("TMPDIR");
  if (!IsWritableDir(base)) base = "/tmp";
  std::string tmpl = absl::StrCat(base, "/duosync-", tag, "-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) Fail(absl::StrCat("harness: mkdtemp ", tmpl, ": ", strerror(errno)));
  return tmpl;
}

void RemoveDir(const std::string& dir) {
  ClearDir(dir);
  ::rmdir(dir.c_str());
}

// ---- process-wide state --------------------------------------------------------------------------

struct State {
  std::string dir;     // the store directory, emptied per input
  std::string header;  // magic + header frame of a segment the library started at ""
  std::shared_ptr<const TableSchema> appended_table;  // of the transaction appended after recovery
};
State* g_state = nullptr;

void RemoveStateDir() {
  if (g_state != nullptr) RemoveDir(g_state->dir);
}

State& GetState() {
  if (g_state != nullptr) return *g_state;
  if (getenv("DUOSYNC_FUZZ_VERBOSE") == nullptr) {
    FLAGS_minloglevel = google::GLOG_FATAL;     // the store logs each cut it makes
    google::protobuf::SetLogHandler(nullptr);  // protobuf logs strings that are not UTF-8
  }
  g_state = new State;
  g_state->dir = MakeTempDir("fuzz-store");
  auto table = std::make_shared<TableSchema>();
  table->schema = "fuzz";
  table->table = "rows";
  table->columns = {{"id", 8, 0, false, "", ""}, {"data", 252, 4, false, "", ""}};
  table->key_columns = {0};
  table->unique_keys = {{0}};
  g_state->appended_table = table;
  atexit(RemoveStateDir);
  // A segment header exactly as the library writes it.
  StoreOptions options;
  options.dir = g_state->dir;
  {
    auto store = RecordStore::Open(options);
    if (!store.ok()) Fail(absl::StrCat("harness: Open: ", store.status().ToString()));
    absl::Status s = (*store)->Reset(GtidPosition());
    if (!s.ok()) Fail(absl::StrCat("harness: Reset: ", s.ToString()));
  }
  g_state->header = ReadFile(g_state->dir + "/" + kSegment1);
  ClearDir(g_state->dir);
  return *g_state;
}

// ---- checks of what the decoder returns ----------------------------------------------------------

bool SameValue(const Value& a, const Value& b) {
  return a.kind == b.kind && a.i == b.i && a.u == b.u && memcmp(&a.d, &b.d, sizeof(a.d)) == 0 && a.s == b.s;
}

bool SameRow(const duosync::Row& a, const duosync::Row& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameValue(a[i], b[i])) return false;
  }
  return true;
}

bool SameSchema(const TableSchema& a, const TableSchema& b) {
  if (a.schema != b.schema || a.table != b.table || a.key_columns != b.key_columns ||
      a.unique_keys != b.unique_keys || a.has_untrusted_unique_key != b.has_untrusted_unique_key ||
      a.columns.size() != b.columns.size()) {
    return false;
  }
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const duosync::ColumnSchema& x = a.columns[i];
    const duosync::ColumnSchema& y = b.columns[i];
    if (x.name != y.name || x.type != y.type || x.meta != y.meta || x.is_unsigned != y.is_unsigned ||
        x.charset != y.charset || x.collation != y.collation) {
      return false;
    }
  }
  return true;
}

bool SameTransaction(const Transaction& a, const Transaction& b) {
  if (a.gtid.domain != b.gtid.domain || a.gtid.server_id != b.gtid.server_id ||
      a.gtid.sequence != b.gtid.sequence || a.origin_server_id != b.origin_server_id ||
      a.commit_time != b.commit_time || a.ddl != b.ddl || a.ddl_schema != b.ddl_schema ||
      a.statement != b.statement || a.changes.size() != b.changes.size()) {
    return false;
  }
  for (size_t i = 0; i < a.changes.size(); ++i) {
    const RowChange& x = a.changes[i];
    const RowChange& y = b.changes[i];
    if (x.op != y.op || !SameSchema(*x.table, *y.table) || !SameRow(x.before, y.before) ||
        !SameRow(x.after, y.after)) {
      return false;
    }
  }
  return true;
}

void CheckKeyColumns(const std::vector<int>& key, size_t columns, const std::string& what) {
  for (int k : key) {
    if (k < 0 || static_cast<size_t>(k) >= columns) Fail(absl::StrCat(what, ": key column ", k, " of ", columns));
  }
}

// What the decoder promises of a transaction: every change has its table, rows as wide as the
// table, keys within it; and it encodes and decodes back to itself.
void CheckTransaction(const Transaction& t) {
  for (const RowChange& c : t.changes) {
    if (c.table == nullptr) Fail("a decoded change without its table");
    const size_t n = c.table->columns.size();
    if (c.op != RowOp::kInsert && c.op != RowOp::kUpdate && c.op != RowOp::kDelete) {
      Fail(absl::StrCat("a decoded change of row operation ", static_cast<int>(c.op)));
    }
    if (c.op != RowOp::kInsert && c.before.size() != n) {
      Fail(absl::StrCat("a decoded before image of ", c.before.size(), " values for ", n, " columns"));
    }
    if (c.op != RowOp::kDelete && c.after.size() != n) {
      Fail(absl::StrCat("a decoded after image of ", c.after.size(), " values for ", n, " columns"));
    }
    CheckKeyColumns(c.table->key_columns, n, "a decoded schema");
    for (const auto& key : c.table->unique_keys) CheckKeyColumns(key, n, "a decoded unique key");
  }
  RecordEncoder encoder;
  std::string bytes;
  encoder.Encode(t, &bytes);
  RecordDecoder decoder;
  absl::string_view rest = bytes;
  std::optional<Transaction> back;
  while (!rest.empty()) {
    const Frame f = duosync::ParseFrame(rest);
    if (f.status != FrameStatus::kOk) Fail(absl::StrCat("a frame the encoder wrote does not parse: ", f.error));
    auto record = decoder.Decode(f.payload);
    if (!record.ok()) Fail(absl::StrCat("a re-encoded transaction does not decode: ", record.status().ToString()));
    if (record->kind == DecodedRecord::Kind::kTransaction) {
      if (back.has_value()) Fail("the encoder wrote two transactions for one");
      back = std::move(record->transaction);
    }
    rest.remove_prefix(f.size);
  }
  if (!back.has_value()) Fail("the encoder wrote no transaction");
  if (!SameTransaction(t, *back)) Fail(absl::StrCat("transaction ", t.gtid.ToString(), " does not survive encode+decode"));
}

void CheckDecoded(const DecodedRecord& r) {
  if (r.kind == DecodedRecord::Kind::kTransaction) {
    if (!r.transaction.has_value()) Fail("a decoded transaction record without its transaction");
    CheckTransaction(*r.transaction);
  } else if (r.transaction.has_value()) {
    Fail("a decoded schema or footer record with a transaction");
  }
}

// ParseFrame in a loop over `data` (after the magic, if it starts with it), each ok payload decoded.
void CheckFrames(absl::string_view data) {
  if (absl::StartsWith(data, duosync::kSegmentMagic)) data.remove_prefix(duosync::kSegmentMagic.size());
  RecordDecoder decoder;
  while (!data.empty()) {
    const Frame f = duosync::ParseFrame(data);
    switch (f.status) {
      case FrameStatus::kOk: {
        if (f.size > data.size() || f.payload.empty() || f.payload.size() > duosync::kMaxRecordBytes ||
            f.size != duosync::kFrameHeaderBytes + f.payload.size() ||
            f.payload.data() != data.data() + duosync::kFrameHeaderBytes) {
          Fail("ParseFrame returned an ok frame that is not within the data");
        }
        std::string reframed;
        duosync::AppendFrame(f.payload, &reframed);
        if (reframed != data.substr(0, f.size)) Fail("an ok frame differs from its payload framed again");
        auto record = decoder.Decode(f.payload);
        if (record.ok()) {
          CheckDecoded(*record);
        } else if (!absl::IsDataLoss(record.status())) {
          Fail(absl::StrCat("Decode returned other than DataLoss: ", record.status().ToString()));
        }
        data.remove_prefix(f.size);
        break;
      }
      case FrameStatus::kIncomplete:
        if (data.size() < duosync::kFrameHeaderBytes ? f.size != 0 : f.size <= data.size()) {
          Fail(absl::StrCat("ParseFrame: incomplete, needing ", f.size, " of ", data.size(), " bytes"));
        }
        return;
      case FrameStatus::kCorrupt:
        if (f.error.empty()) Fail("ParseFrame: corrupt without saying why");
        return;
    }
  }
}

// ---- the store -----------------------------------------------------------------------------------

// What the inputs run so far came to (the replay build prints it).
struct Outcomes {
  uint64_t dropped = 0;    // recovery dropped every segment
  uint64_t clean = 0;      // read without DataLoss
  uint64_t truncated = 0;  // a cursor found DataLoss; truncated there and read again
  uint64_t transactions = 0;
};
Outcomes g_outcomes;

struct Pass {
  bool data_loss = false;
  RecordLocation at;
  std::string error;
  uint64_t transactions = 0;
  std::optional<Transaction> last;
  std::string position;  // the cursor's at the end
};

// Reads every transaction of the store with one cursor.
Pass ReadPass(RecordStore* store, uint64_t max_transactions) {
  Pass out;
  const GtidPosition after = store->Holds(GtidPosition()) ? GtidPosition() : store->start();
  auto cursor = store->NewCursor(after);
  if (!cursor.ok()) {
    Fail(absl::StrCat("NewCursor(", after.ToString(), ") of a store holding it: ", cursor.status().ToString()));
  }
  while (true) {
    auto next = (*cursor)->Next(absl::ZeroDuration());
    if (!next.ok()) {
      if (!absl::IsDataLoss(next.status())) Fail(absl::StrCat("cursor: ", next.status().ToString()));
      out.data_loss = true;
      out.at = (*cursor)->location();
      out.error = next.status().ToString();
      break;
    }
    if (!next->has_value()) break;
    CheckTransaction(**next);
    out.last = std::move(*next);
    if (++out.transactions > max_transactions) Fail("a cursor returned more transactions than there are records");
  }
  out.position = (*cursor)->position().ToString();
  return out;
}

std::string StatsString(const StoreStats& s) {
  return absl::StrCat("{bytes ", s.bytes, ", segments ", s.segments, ", transactions ", s.transactions,
                      ", commit times ", s.oldest_commit_time, "..", s.newest_commit_time, ", positions '",
                      s.start_position, "'..'", s.end_position, "'}");
}

std::unique_ptr<RecordStore> OpenStore(const std::string& dir, const char* when) {
  StoreOptions options;
  options.dir = dir;
  options.segment_bytes = 2048;  // so that appending often seals the recovered segment first
  auto store = RecordStore::Open(options);
  // Recovery copes with any bytes: only I/O fails an Open.
  if (!store.ok()) Fail(absl::StrCat("Open (", when, "): ", store.status().ToString()));
  return std::move(*store);
}

struct Files {
  std::string segment1;
  std::optional<std::string> segment2;
  bool sealed_by_harness = true;  // false: mode 3 without a trailer (the segment is not sealed)
};

Files MakeFiles(absl::string_view input, const std::string& header) {
  Files out;
  const int mode = static_cast<unsigned char>(input[0]) % 4;
  absl::string_view rest = input.substr(1);
  switch (mode) {
    case 0:
      out.segment1 = std::string(rest);
      break;
    case 1:
      out.segment1 = absl::StrCat(header, rest);
      break;
    case 2: {
      size_t cut = rest.find(duosync::kTrailerMagic);
      cut = cut == absl::string_view::npos ? rest.size() / 2 : cut + duosync::kTrailerMagic.size();
      out.segment1 = std::string(rest.substr(0, cut));
      out.segment2 = std::string(rest.substr(cut));
      break;
    }
    case 3: {
      const bool seal = !rest.empty() && (static_cast<unsigned char>(rest[0]) & 1) != 0;
      if (!rest.empty()) rest.remove_prefix(1);
      out.segment1 = header;
      size_t last_frame = 0;
      while (!rest.empty()) {
        size_t n = static_cast<unsigned char>(rest[0]);
        if (rest.size() >= 2) n |= static_cast<size_t>(static_cast<unsigned char>(rest[1])) << 8;
        rest.remove_prefix(std::min<size_t>(2, rest.size()));
        n = std::min(n, rest.size());
        const size_t before = out.segment1.size();
        duosync::AppendFrame(rest.substr(0, n), &out.segment1);
        last_frame = out.segment1.size() - before;
        rest.remove_prefix(n);
      }
      if (seal && last_frame > 0) {
        out.segment1 += duosync::TrailerTail(static_cast<uint32_t>(last_frame));
      } else {
        out.sealed_by_harness = false;
      }
      break;
    }
  }
  return out;
}

// The transaction the link appends once the store is recovered: the next of a domain of its own,
// one row whose last value is the input's tail (row values are anyone's bytes).
Transaction AppendedTransaction(const State& state, const RecordStore& store, absl::string_view input) {
  Transaction t;
  t.gtid = duosync::Gtid::Maria(7, 77, 1);
  const GtidPosition end = store.end();
  const auto& domains = end.domains();
  auto it = domains.find(t.gtid.domain);
  if (it != domains.end()) t.gtid.sequence = it->second.sequence + 1;  // may wrap: then it is covered
  t.origin_server_id = 77;
  t.commit_time = 4000000000u;
  RowChange c;
  c.op = RowOp::kInsert;
  c.table = state.appended_table;
  std::string value(input.substr(input.size() - std::min<size_t>(input.size(), 256)));
  // A value may end like a sealed segment's trailer: recovery must not take the active segment
  // for sealed because of it (it trusts only the index files the store writes).
  c.after = {Value::Int(static_cast<int64_t>(input.size())), Value::Bytes(std::move(value))};
  t.changes.push_back(std::move(c));
  return t;
}

// Checks what PositionAtTime returns for `time`: a position, or why not.
void ProbePositionAtTime(const RecordStore& store, uint32_t time) {
  auto p = store.PositionAtTime(time);
  if (!p.ok() && !absl::IsOutOfRange(p.status()) && !absl::IsDataLoss(p.status())) {
    Fail(absl::StrCat("PositionAtTime(", time, "): ", p.status().ToString()));
  }
}

int RunOne(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  State& state = GetState();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const Files files = MakeFiles(input, state.header);

  CheckFrames(input.substr(1));
  CheckFrames(files.segment1);
  if (files.segment2.has_value()) CheckFrames(*files.segment2);

  ClearDir(state.dir);
  WriteFile(state.dir + "/" + kSegment1, files.segment1);
  if (files.segment1.size() > duosync::kTrailerTailBytes) {
    const absl::string_view seg(files.segment1);
    const uint32_t n = duosync::ParseTrailerTail(seg.substr(seg.size() - duosync::kTrailerTailBytes));
    if (n > 0 && n <= seg.size() - duosync::kTrailerTailBytes) {
      WriteFile(state.dir + "/00000000000000000001.idx",
                std::string(seg.substr(seg.size() - duosync::kTrailerTailBytes - n)));
    }
  }
  if (files.segment2.has_value()) WriteFile(state.dir + "/" + kSegment2, *files.segment2);
  const uint64_t total = files.segment1.size() + (files.segment2.has_value() ? files.segment2->size() : 0);
  const uint64_t max_transactions = total / (duosync::kFrameHeaderBytes + 1) + 1;

  std::unique_ptr<RecordStore> store = OpenStore(state.dir, "first");
  if (!store->initialized()) {
    // Recovery dropped everything.
    if (store->NewCursor(GtidPosition()).ok()) Fail("a cursor on a store without a range");
    ++g_outcomes.dropped;
    return 0;
  }
  ProbePositionAtTime(*store, 0);
  ProbePositionAtTime(*store, UINT32_MAX);
  if (size >= 4) ProbePositionAtTime(*store, static_cast<uint32_t>(data[size - 1]) << 24 | data[size - 2] << 16 |
                                                 data[size - 3] << 8 | data[size - 4]);
  const Pass first = ReadPass(store.get(), max_transactions);
  g_outcomes.transactions += first.transactions;
  ++(first.data_loss ? g_outcomes.truncated : g_outcomes.clean);
  if (first.data_loss) {
    // What the link does: cut the store off at the corrupt record and read it again.
    absl::Status s = store->TruncateAt(first.at);
    if (!s.ok()) Fail(absl::StrCat("TruncateAt(", first.at.ToString(), ") after [", first.error, "]: ", s.ToString()));
    const Pass second = ReadPass(store.get(), max_transactions);
    if (second.data_loss) {
      if (second.at.segment == first.at.segment && second.at.offset == first.at.offset) {
        Fail(absl::StrCat("DataLoss at the same location after TruncateAt(", first.at.ToString(), "): first [",
                          first.error, "], again [", second.error, "]"));
      }
      Fail(absl::StrCat("DataLoss after TruncateAt(", first.at.ToString(), ") at another location: first [",
                        first.error, "], then [", second.error, "]"));
    }
  } else if (!files.sealed_by_harness && first.position != store->end().ToString()) {
    // A segment that was never sealed is scanned by recovery: its end is what a cursor reads.
    Fail(absl::StrCat("an unsealed segment read to '", first.position, "' but the store ends at '",
                      store->end().ToString(), "'"));
  }

  // The link appends the next transaction where the store ends: a cursor reads it back last.
  const Transaction appended = AppendedTransaction(state, *store, input);
  const GtidPosition after_start = store->Holds(GtidPosition()) ? GtidPosition() : store->start();
  absl::Status s = store->Append(appended);
  if (!s.ok()) Fail(absl::StrCat("Append after recovery: ", s.ToString()));
  const Pass fourth = ReadPass(store.get(), max_transactions + 1);
  if (fourth.data_loss) Fail(absl::StrCat("DataLoss after appending to the recovered store: ", fourth.error));
  if (!after_start.Covers(appended.gtid) && (!fourth.last.has_value() || !SameTransaction(*fourth.last, appended))) {
    Fail(absl::StrCat("the transaction appended (", appended.gtid.ToString(), ") is not the last one read (",
                      fourth.last.has_value() ? fourth.last->gtid.ToString() : "none", ")"));
  }
  if (fourth.position != store->end().ToString()) {
    Fail(absl::StrCat("after appending, a cursor read to '", fourth.position, "' but the store ends at '",
                      store->end().ToString(), "'"));
  }

  // Recovery of what the store wrote (and recovery and TruncateAt left) changes nothing, and it
  // reads cleanly.
  const StoreStats before = store->stats();
  store.reset();
  store = OpenStore(state.dir, "again");
  const StoreStats after = store->stats();
  if (StatsString(before) != StatsString(after)) {
    Fail(absl::StrCat("reopening the store changed it: ", StatsString(before), " became ", StatsString(after)));
  }
  if (store->initialized()) {
    const Pass third = ReadPass(store.get(), max_transactions + 1);
    if (third.data_loss) Fail(absl::StrCat("DataLoss after reopening a store that read cleanly: ", third.error));
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  GetState();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return RunOne(data, size); }

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
// ---- the replay build: seeds, deterministic mutations, seed generation ---------------------------
namespace {

using duosync::Gtid;

void Run(const std::string& input, const std::string& label) {
  g_input = &input;
  g_input_label = label;
  RunOne(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_input = nullptr;
}

void PutU16(size_t v, std::string* out) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
}

void PutU32At(uint32_t v, std::string* s, size_t at) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// Runs `seed` and a bounded, deterministic set of mutations of it. Returns how many inputs ran.
size_t RunMutations(const std::string& seed, const std::string& name) {
  size_t runs = 0;
  auto run = [&](const std::string& input, const std::string& what) {
    Run(input, absl::StrCat(name, " ", what));
    ++runs;
  };
  run(seed, "as is");
  if (seed.empty()) return runs;
  const size_t size = seed.size();
  const int mode = static_cast<unsigned char>(seed[0]) % 4;

  // The same bytes read in each other mode.
  for (int m = 0; m < 4; ++m) {
    if (m == mode) continue;
    std::string s = seed;
    s[0] = static_cast<char>(m);
    run(s, absl::StrCat("as mode ", m));
  }
  // Truncations: a torn write anywhere, and each of the last bytes (the trailer).
  for (size_t at = 1; at < size; at += 97) run(seed.substr(0, at), absl::StrCat("cut at ", at));
  for (size_t k = 1; k <= 20 && k < size; ++k) run(seed.substr(0, size - k), absl::StrCat("cut ", k, " before the end"));
  // Flipped bytes at a stride.
  const size_t stride = std::max<size_t>(1, size / 128);
  for (size_t at = 1; at < size; at += stride) {
    for (unsigned char x : {0x01, 0xff}) {
      std::string s = seed;
      s[at] = static_cast<char>(s[at] ^ x);
      run(s, absl::StrCat("byte ", at, " ^ ", static_cast<int>(x)));
    }
  }
  // The same segment twice.
  run(seed + seed.substr(1), "doubled");

  if (mode == 3) {
    // Harness-framed payloads: change each length prefix, drop or repeat each payload.
    std::vector<std::pair<size_t, size_t>> chunks;  // offset of the length prefix, payload size
    for (size_t at = 2; at + 2 <= size && chunks.size() < 32;) {
      const size_t n = std::min<size_t>(static_cast<unsigned char>(seed[at]) |
                                            (static_cast<size_t>(static_cast<unsigned char>(seed[at + 1])) << 8),
                                        size - at - 2);
      chunks.emplace_back(at, n);
      at += 2 + n;
    }
    for (size_t i = 0; i < chunks.size(); ++i) {
      const auto [at, n] = chunks[i];
      for (size_t v : {size_t{0}, size_t{1}, n - 1, n + 1, size_t{0xffff}}) {
        std::string s = seed;
        s[at] = static_cast<char>(v & 0xff);
        s[at + 1] = static_cast<char>((v >> 8) & 0xff);
        run(s, absl::StrCat("payload ", i, " length ", v));
      }
      const std::string chunk = seed.substr(at, 2 + n);
      std::string dropped = seed;
      dropped.erase(at, 2 + n);
      run(dropped, absl::StrCat("payload ", i, " dropped"));
      std::string repeated = seed;
      repeated.insert(at, chunk);
      run(repeated, absl::StrCat("payload ", i, " repeated"));
      if (i + 1 < chunks.size()) {
        const auto [at2, n2] = chunks[i + 1];
        std::string swapped = seed.substr(0, at) + seed.substr(at2, 2 + n2) + chunk + seed.substr(at2 + 2 + n2);
        run(swapped, absl::StrCat("payloads ", i, " and ", i + 1, " swapped"));
      }
    }
    // Payload bytes flipped one by one (the harness frames them, so the CRC is valid and the
    // decoder sees each flip), in the first 32 bytes of each payload.
    for (const auto& [at, n] : chunks) {
      for (size_t k = 0; k < std::min<size_t>(n, 32); ++k) {
        std::string s = seed;
        s[at + 2 + k] = static_cast<char>(s[at + 2 + k] ^ 0x04);
        run(s, absl::StrCat("payload byte ", at + 2 + k, " ^ 4"));
      }
    }
    return runs;
  }
  // Frames found in the bytes: their length field changed, the file torn inside their header or
  // zero-filled from them on (a crash after the size grew but before the data landed), adjacent
  // frames swapped (both CRCs stay valid).
  std::vector<std::pair<size_t, size_t>> frames;  // offset, bytes
  for (size_t at = 1; at + duosync::kFrameHeaderBytes <= size && frames.size() < 48; ++at) {
    const Frame f = duosync::ParseFrame(absl::string_view(seed).substr(at));
    if (f.status != FrameStatus::kOk) continue;
    frames.emplace_back(at, f.size);
    at += f.size - 1;
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto [at, n] = frames[i];
    const uint32_t length = GetU32At(seed, at);
    for (uint32_t v : {0u, 1u, length - 1, length + 1, duosync::kMaxRecordBytes, duosync::kMaxRecordBytes + 1,
                       0xffffffffu}) {
      std::string s = seed;
      PutU32At(v, &s, at);
      run(s, absl::StrCat("frame at ", at, " length ", v));
    }
    run(seed.substr(0, at + 5), absl::StrCat("cut inside the frame header at ", at));
    std::string zeroed = seed;
    std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(at), zeroed.end(), '\0');
    run(zeroed, absl::StrCat("zeroed from ", at));
    if (i + 1 < frames.size() && frames[i + 1].first == at + n) {
      const size_t n2 = frames[i + 1].second;
      std::string swapped = seed.substr(0, at) + seed.substr(at + n, n2) + seed.substr(at, n) + seed.substr(at + n + n2);
      run(swapped, absl::StrCat("frames at ", at, " and ", at + n, " swapped"));
    }
  }
  return runs;
}

// ---- seeds ---------------------------------------------------------------------------------------

std::shared_ptr<TableSchema> Orders() {
  auto s = std::make_shared<TableSchema>();
  s->schema = "shop";
  s->table = "orders";
  s->columns = {{"id", 8, 0, false, "", ""}, {"note", 15, 400, false, "utf8mb4", "utf8mb4_general_ci"},
                {"price", 246, 0x0a02, false, "", ""}, {"blob", 252, 2, false, "", ""},
                {"ratio", 5, 8, false, "", ""}, {"big", 8, 0, true, "", ""}};
  s->key_columns = {0};
  s->unique_keys = {{0}, {1}};
  return s;
}

std::shared_ptr<TableSchema> Customers() {
  auto s = std::make_shared<TableSchema>();
  s->schema = "shop";
  s->table = "customers";
  s->columns = {{"name", 15, 200, false, "utf8mb4", "utf8mb4_bin"}, {"n", 3, 0, false, "", ""}};
  s->has_untrusted_unique_key = true;
  return s;
}

// Transaction `n` (GTID 0-1-n): an UPDATE of orders with every value kind, and on odd n an INSERT
// into customers and a DELETE from orders too.
Transaction RowsTxn(uint64_t n, const std::shared_ptr<TableSchema>& orders,
                    const std::shared_ptr<TableSchema>& customers) {
  Transaction t;
  t.gtid = Gtid::Maria(0, 1, n);
  t.origin_server_id = 1;
  t.commit_time = static_cast<uint32_t>(1700000000 + n);
  RowChange c;
  c.op = RowOp::kUpdate;
  c.table = orders;
  c.before = {Value::Int(static_cast<int64_t>(n)), Value::String("before"), Value::String("1.50"),
              Value::Bytes(std::string("\0\x01\xff", 3)), Value::Double(0.25), Value::UInt(UINT64_MAX)};
  c.after = c.before;
  c.after[1] = Value::String(absl::StrCat("after ", n));
  c.after[3] = Value::Null();
  t.changes.push_back(c);
  if (n % 2 == 1) {
    RowChange ins;
    ins.op = RowOp::kInsert;
    ins.table = customers;
    ins.after = {Value::String("Zoë"), Value::Int(-static_cast<int64_t>(n))};
    t.changes.push_back(ins);
    RowChange del;
    del.op = RowOp::kDelete;
    del.table = orders;
    del.before = c.after;
    t.changes.push_back(del);
  }
  return t;
}

std::unique_ptr<RecordStore> MustOpen(const std::string& dir, uint64_t segment_bytes) {
  StoreOptions options;
  options.dir = dir;
  options.segment_bytes = segment_bytes;
  auto store = RecordStore::Open(options);
  if (!store.ok()) Fail(absl::StrCat("seeds: Open: ", store.status().ToString()));
  return std::move(*store);
}

void MustOk(const absl::Status& s, const char* what) {
  if (!s.ok()) Fail(absl::StrCat("seeds: ", what, ": ", s.ToString()));
}

// Records of a segment file: the bytes after its magic and header frame.
std::string AfterHeader(const std::string& segment) {
  const Frame f = duosync::ParseFrame(absl::string_view(segment).substr(duosync::kSegmentMagic.size()));
  if (f.status != FrameStatus::kOk) Fail("seeds: a segment without a header");
  return segment.substr(duosync::kSegmentMagic.size() + f.size);
}

// Mode 3 input of a segment's records: each record payload length-prefixed; `seal` when the
// segment ends with a footer and trailer.
std::string Framed(const std::string& segment, bool seal) {
  std::string out(1, '\3');
  out.push_back(seal ? '\1' : '\0');
  const std::string records = AfterHeader(segment);
  absl::string_view rest = records;
  while (!rest.empty()) {
    const Frame f = duosync::ParseFrame(rest);
    if (f.status != FrameStatus::kOk) break;  // the trailer tail
    PutU16(f.payload.size(), &out);
    out.append(f.payload.data(), f.payload.size());
    rest.remove_prefix(f.size);
  }
  return out;
}

int WriteSeeds(const std::string& out_dir) {
  ::mkdir(out_dir.c_str(), 0755);
  auto orders = Orders();
  auto customers = Customers();
  std::vector<std::pair<std::string, std::string>> seeds;

  // An unsealed segment of assorted transactions: rows, DDL, a statement, another domain, none.
  std::string unsealed;
  {
    const std::string dir = MakeTempDir("fuzz-seeds");
    auto store = MustOpen(dir, 64 << 20);
    MustOk(store->Reset(GtidPosition()), "Reset");
    MustOk(store->Append(RowsTxn(1, orders, customers)), "Append");
    Transaction ddl;
    ddl.gtid = Gtid::Maria(0, 1, 2);
    ddl.commit_time = 1700000002;
    ddl.ddl = "ALTER TABLE orders ADD COLUMN x INT";
    ddl.ddl_schema = "shop";
    MustOk(store->Append(ddl), "Append");
    MustOk(store->Append(RowsTxn(3, orders, customers)), "Append");
    Transaction statement;
    statement.gtid = Gtid::Maria(1, 2, 1);
    statement.origin_server_id = 2;
    statement.commit_time = 1700000004;
    statement.statement = "UPDATE shop.orders SET note = 'x' WHERE id = 1";
    statement.ddl_schema = "shop";
    MustOk(store->Append(statement), "Append");
    Transaction empty;
    empty.gtid = Gtid::Maria(0, 1, 5);
    empty.commit_time = 1700000005;
    MustOk(store->Append(empty), "Append");
    store.reset();
    unsealed = ReadFile(dir + "/" + kSegment1);
    RemoveDir(dir);
  }
  seeds.emplace_back("raw-unsealed", std::string(1, '\0') + unsealed);
  seeds.emplace_back("after-header", std::string(1, '\1') + AfterHeader(unsealed));
  seeds.emplace_back("framed-unsealed", Framed(unsealed, false));
  // A torn write: the last record cut in half.
  seeds.emplace_back("raw-torn", std::string(1, '\0') + unsealed.substr(0, unsealed.size() - 40));

  // Small segments: sealed ones (footer and trailer), each continuing the one before.
  std::string sealed, next;
  {
    const std::string dir = MakeTempDir("fuzz-seeds");
    auto store = MustOpen(dir, 900);
    GtidPosition start;
    start.Advance(Gtid::Maria(0, 1, 9));
    MustOk(store->Reset(start), "Reset");
    for (uint64_t n = 10; n < 16; ++n) MustOk(store->Append(RowsTxn(n, orders, customers)), "Append");
    store.reset();
    sealed = ReadFile(dir + "/" + kSegment1);
    next = ReadFile(dir + "/" + kSegment2);
    RemoveDir(dir);
  }
  if (duosync::ParseTrailerTail(absl::string_view(sealed).substr(sealed.size() - duosync::kTrailerTailBytes)) == 0) {
    Fail("seeds: segment 1 of the small-segment store is not sealed");
  }
  seeds.emplace_back("raw-sealed", std::string(1, '\0') + sealed);
  seeds.emplace_back("two-segments", std::string(1, '\2') + sealed + next);
  seeds.emplace_back("framed-sealed", Framed(sealed, true));

  for (const auto& [name, bytes] : seeds) {
    WriteFile(absl::StrCat(out_dir, "/", name), bytes);
    printf("%-16s %5zu bytes\n", name.c_str(), bytes.size());
  }
  return 0;
}

std::vector<std::string> ListInputs(const std::string& path) {
  std::vector<std::string> out;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) Fail(absl::StrCat("no such corpus: ", path));
  if (!S_ISDIR(st.st_mode)) return {path};
  DIR* d = ::opendir(path.c_str());
  while (dirent* e = ::readdir(d)) {
    const std::string p = absl::StrCat(path, "/", e->d_name);
    if (e->d_name[0] != '.' && ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(p);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
    GetState();
    return WriteSeeds(argv[2]);
  }
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) paths.emplace_back(argv[i]);
#ifdef DUOSYNC_FUZZ_CORPUS_DIR
  if (paths.empty()) paths.emplace_back(DUOSYNC_FUZZ_CORPUS_DIR);
#endif
  if (paths.empty()) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... | --write-seeds DIR\n", argv[0]);
    return 2;
  }
  LLVMFuzzerInitialize(&argc, &argv);
  const auto start = std::chrono::steady_clock::now();
  size_t seeds = 0, runs = 0;
  for (const std::string& p : paths) {
    for (const std::string& file : ListInputs(p)) {
      const size_t n = RunMutations(ReadFile(file), file);
      printf("%-60s %6zu inputs\n", file.c_str(), n);
      ++seeds;
      runs += n;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("record_reader_corpus: %zu seeds, %zu inputs (%llu with every segment dropped, %llu read cleanly, "
         "%llu truncated at a DataLoss and read again; %llu transactions read), %.2f s, all promises kept\n",
         seeds, runs, static_cast<unsigned long long>(g_outcomes.dropped),
         static_cast<unsigned long long>(g_outcomes.clean), static_cast<unsigned long long>(g_outcomes.truncated),
         static_cast<unsigned long long>(g_outcomes.transactions), seconds);
  if (seeds == 0) {
    fprintf(stderr, "record_reader_corpus: no seeds found\n");
    return 1;
  }
  return 0;
}
#endif  // DUOSYNC_FUZZ_REPLAY_MAIN
