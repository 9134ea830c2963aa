#include "source/binlog_directory_feed.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"

namespace duosync {

absl::StatusOr<std::optional<GtidPosition>> StartingGtidList(const std::string& path) {
  auto file = BinlogFile::Open(path);
  if (!file.ok()) return file.status();
  TransactionAssembler peek(TransactionAssembler::Options{});
  for (int events = 0; events < 16; ++events) {
    auto e = (*file)->Next();
    if (!e.ok()) return e.status();
    if (!e->has_value()) break;
    auto t = peek.Add((*e)->bytes, (*e)->position);
    if (!t.ok()) return t.status();
    const std::string& text = peek.gtid_list().empty() ? peek.previous_gtids() : peek.gtid_list();
    if (!text.empty()) {
      auto list = GtidPosition::Parse(text);
      if (!list.ok()) return list.status();
      return std::optional<GtidPosition>(*list);
    }
    if (peek.in_transaction() || t->has_value()) break;
  }
  return std::optional<GtidPosition>();
}

BinlogDirectoryFeed::BinlogDirectoryFeed(Options options)
    : options_(std::move(options)), position_(options_.start) {
  TransactionAssembler::Options a;
  a.schema_for = options_.schema_for;
  a.part_bytes = options_.part_bytes;
  // What the start covers is passed over undecoded: its tables may have changed since.
  a.wants = [this](const TableRef& t) { return !skipping_ && (!options_.wants || options_.wants(t)); };
  assembler_ = std::make_unique<TransactionAssembler>(std::move(a));
}

absl::StatusOr<std::unique_ptr<BinlogDirectoryFeed>> BinlogDirectoryFeed::Open(Options options) {
  auto feed = std::unique_ptr<BinlogDirectoryFeed>(new BinlogDirectoryFeed(std::move(options)));
  if (auto s = feed->Refresh(); !s.ok()) return s;
  if (feed->files_.empty()) {
    return absl::NotFoundError(absl::StrCat("no binlog file (NAME.NNNNNN) in ", feed->options_.directory));
  }
  auto first = feed->FirstFile();
  if (!first.ok()) return first.status();
  feed->index_ = *first;
  if (feed->options_.start.empty()) {
    // From the first file's beginning: what it starts after is the start state, already in the
    // destination. (A MySQL GTID set names every transaction: without this, a restart would not
    // know the start state's transactions as done.)
    auto list = StartingGtidList(feed->files_[0]);
    if (!list.ok()) return list.status();
    if (list->has_value()) feed->position_ = **list;
  }
  return feed;
}

absl::Status BinlogDirectoryFeed::Refresh() {
  std::error_code ec;
  std::vector<std::pair<uint64_t, std::string>> found;
  std::string series = series_;
  std::filesystem::directory_iterator it(options_.directory, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto& entry = *it;
    std::string name = entry.path().filename().string(), s;
    uint64_t number = 0;
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec) || !SplitBinlogName(name, &s, &number)) continue;
    if (series.empty()) series = s;
    if (s != series) {
      return absl::InvalidArgumentError(absl::StrCat(
          options_.directory, " holds two binlog series (", series, ".* and ", s,
          ".*): keep the files of one server in a directory"));
    }
    found.emplace_back(number, entry.path().string());
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot list binlog directory ", options_.directory, ": ", ec.message()));
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 1; i < found.size(); ++i) {
    if (found[i].first != found[i - 1].first + 1) {
      // A missing file means missing transactions: applying past the gap would drift silently.
      return absl::DataLossError(absl::StrCat(
          "binlog file ", BinlogFileName(series, found[i - 1].first + 1), " (or more) is missing from ",
          options_.directory, " between ", found[i - 1].second, " and ", found[i].second));
    }
  }
  series_ = series;
  std::vector<std::string> paths;
  std::vector<uint64_t> numbers;
  for (auto& f : found) {
    numbers.push_back(f.first);
    paths.push_back(std::move(f.second));
  }
  if (paths.size() < files_.size() || !std::equal(files_.begin(), files_.end(), paths.begin())) {
    if (!files_.empty()) {
      return absl::DataLossError(absl::StrCat("binlog files were removed from ", options_.directory,
                                              " while being read"));
    }
  }
  files_ = std::move(paths);
  numbers_ = std::move(numbers);
  return absl::OkStatus();
}

absl::StatusOr<size_t> BinlogDirectoryFeed::FirstFile() {
  if (options_.start.empty()) return size_t{0};
  size_t first = 0;
  // Transactions without GTIDs are known by file place: the files before the position's are done,
  // and its own file must be here (else the transactions after the place are missing).
  const Gtid& place = options_.start.file_place();
  if (place.by_file()) {
    if (place.file_series != series_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the link is at ", place.ToString(), " but ", options_.directory, " holds the binlog series ",
          series_, ".*: these are another server's files"));
    }
    const uint64_t number = FileNumberOf(place.sequence);
    if (numbers_[0] > number) {
      return absl::DataLossError(absl::StrCat(
          files_[0], " starts after the link's place ", place.ToString(),
          ": the binlog files with the transactions in between are missing from ", options_.directory));
    }
    if (numbers_.back() < number) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the link is at ", place.ToString(), " but ", options_.directory, " ends at ", files_.back(),
          ": these files are older than the link's place (a stale copy, or the server's RESET MASTER)"));
    }
    // The place is exact: read its file from the start (what it covers is passed over) and never
    // skip past it by a file's GTID list, which says nothing of transactions without GTIDs.
    while (numbers_[first] < number) ++first;
    return first;
  }
  // The first file must not start after the position: the transactions between would be missing.
  auto starts = StartingGtidList(files_[0]);
  if (!starts.ok()) return starts.status();
  // A position that names none of the servers the files come from is another server's.
  if (starts->has_value() && !(*starts)->empty() && !options_.start.NamesAnyOf(**starts)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the link is at ", options_.start.ToString(), ", which names none of the servers that wrote ", files_[0],
        " (it starts after ", (*starts)->ToString(), "): a position of another server, or of another dialect?"));
  }
  // Only the position's own domains (MySQL sources) tell: one it never saw was the start state's.
  if (starts->has_value() && !options_.start.CoversWhereNamed(**starts)) {
    return absl::DataLossError(absl::StrCat(
        files_[0], " starts after ", (*starts)->ToString(), " but the link is at ", options_.start.ToString(),
        ": the binlog files with the transactions in between are missing from ", options_.directory));
  }
  for (size_t i = first; i + 1 < files_.size(); ++i) {
    auto list = StartingGtidList(files_[i + 1]);
    if (!list.ok()) return list.status();
    // Every transaction of file i is before the next file's starting list: skip it when the
    // start position is at or past that list.
    if (!list->has_value() || (*list)->empty() || !options_.start.CoversAll(**list)) break;
    first = i + 1;
  }
  return first;
}

bool BinlogDirectoryFeed::BeforeStartPlace(uint64_t offset) const {
  const Gtid& place = options_.start.file_place();
  if (!place.by_file() || place.file_series != series_) return false;
  const uint64_t number = FileNumberOf(place.sequence);
  return numbers_[index_] < number || (numbers_[index_] == number && offset < FileOffsetOf(place.sequence));
}

std::string BinlogDirectoryFeed::server_version() const {
  return assembler_->has_format() ? assembler_->format().server_version : "";
}

std::string BinlogDirectoryFeed::current_file() const {
  return index_ < files_.size() ? files_[index_] : "";
}

void BinlogDirectoryFeed::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

absl::StatusOr<std::optional<Transaction>> BinlogDirectoryFeed::Next() {
  while (true) {
    if (cancelled_) return absl::CancelledError("reading binlog files was cancelled");
    if (file_ == nullptr) {
      auto opened = BinlogFile::Open(files_[index_]);
      std::error_code ec;
      if (!opened.ok() && index_ + 1 == files_.size() && std::filesystem::file_size(files_[index_], ec) < 4 && !ec) {
        // The newest file was just created and its magic bytes are not written yet.
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.idle_wait), [this] { return cancelled_.load(); });
        return std::optional<Transaction>();
      }
      if (!opened.ok()) return opened.status();
      file_ = *std::move(opened);
    }
    auto event = file_->Next();
    if (!event.ok()) return event.status();
    if (!event->has_value()) {  // the end of what this file holds now
      if (index_ + 1 >= files_.size()) {
        if (auto s = Refresh(); !s.ok()) return s;
      }
      if (index_ + 1 < files_.size()) {
        // A server writes the rest of a file before it starts the next one, but that rest may
        // have come after the read that found the end: read on once more before leaving it.
        if (!reread_before_next_) {
          reread_before_next_ = true;
          continue;
        }
        reread_before_next_ = false;
        if (file_->incomplete_tail() > 0) {
          return absl::DataLossError(absl::StrCat(
              files_[index_], " ends inside an event at offset ", file_->position(),
              " although a later file exists: the file is damaged (copy it again from the server)"));
        }
        ++index_;
        file_.reset();
        rotated_ = true;
        continue;
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.idle_wait), [this] { return cancelled_.load(); });
      return std::optional<Transaction>();
    }
    reread_before_next_ = false;
    if (auto h = ParseEventHeader((*event)->bytes); h.ok()) {
      if (auto g = GtidOfEvent(*h, (*event)->bytes); g.has_value()) {
        skipping_ = (!g->none() && options_.start.Covers(*g)) || BeforeStartPlace((*event)->position);
      }
    }
    auto t = assembler_->Add((*event)->bytes, (*event)->position);
    if (!t.ok()) {
      return absl::Status(t.status().code(), absl::StrCat(files_[index_], ": ", t.status().message()));
    }
    if (!t->has_value()) continue;
    Transaction& txn = **t;
    // Where it ends in the files (the file's own offset: a relay log's headers give the master's).
    // The position keeps it beside the GTIDs, so that a restart resumes in this file whatever the
    // GTID lists of later files say, and transactions without GTIDs are known by it.
    Gtid here;
    here.file_series = series_;
    here.sequence = FilePlace(numbers_[index_], file_->position());
    if (txn.gtid.none()) {
      const Gtid& place = options_.start.file_place();
      if (!options_.start.empty() && place.file_series != series_) {
        return absl::FailedPreconditionError(absl::StrCat(
            files_[index_], " holds transactions without GTIDs, and the link's position ", options_.start.ToString(),
            " names no place in these files: start the link at one (start_gtid \"", series_,
            ".NNNNNN:offset\")"));
      }
      txn.gtid = here;
    }
    const bool covered = options_.start.Covers(txn.gtid) || options_.start.Covers(here);  // applied before
    if (!txn.ddl.empty() && options_.on_ddl) DUO_RETURN_IF_ERROR(options_.on_ddl(txn, covered));
    if (covered) continue;
    if (!txn.more_parts) {  // past a transaction in parts at its last
      position_.Advance(txn.gtid);
      position_.Advance(here);
    }
    return std::move(*t);
  }
}

}  // namespace duosync
