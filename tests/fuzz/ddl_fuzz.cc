// Fuzz target of the DDL parser (src/route/ddl.h): whatever text a QUERY event carries, ParseDdl
// (under each sql_mode the binlog can log: default, ANSI_QUOTES, NO_BACKSLASH_ESCAPES, both),
// QualifiersIn and CheckLengthOnlyChange must not crash, hang or hit undefined behaviour, and a
// supported statement's rewrite must build.
//
// The input is the statement's text. Text after a '|' is also read as a pair of column types,
// "FROM|TO", for CheckLengthOnlyChange.
//
// Promises checked for each input (Fail() aborts with what broke):
//   - a statement names tables exactly when it is table DDL;
//   - under the default sql_mode it is supported exactly when it is table DDL without a reason
//     against it, and then it has a rewrite; under any other mode table DDL is refused, with a
//     reason;
//   - the default database changes which schema unqualified names get, never whether the
//     statement is supported or how many tables it names;
//   - the rewrite (to the destination names, and to the same names) is non-empty, the same each
//     time, and names each table by its quoted destination name;
//   - CheckLengthOnlyChange(x, x) is empty for any x (each MODIFY's new type, and FROM and TO).
//
// Built as `ddl_fuzz` (Clang, -DDUOSYNC_FUZZ=ON: libFuzzer, tests/fuzz/run_fuzz.sh) and as
// `ddl_corpus` (the normal build: replays tests/fuzz/corpus_ddl plus deterministic mutations).
// `ddl_corpus --write-seeds DIR` writes the seeds.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/names.h"
#include "base/table_ref.h"
#include "fuzz_support.h"
#include "sql/ddl.h"

namespace {

using duosync::DdlSqlMode;
using duosync::ParsedDdl;
using duosync::TableRef;
using duosync_fuzz::Fail;

const bool kNamed = duosync_fuzz::NameTarget("ddl_fuzz");

std::string ModeName(DdlSqlMode mode) {
  return absl::StrCat(mode.ansi_quotes ? "ANSI_QUOTES" : "", mode.ansi_quotes && mode.no_backslash_escapes ? "," : "",
                      mode.no_backslash_escapes ? "NO_BACKSLASH_ESCAPES" : "",
                      !mode.ansi_quotes && !mode.no_backslash_escapes ? "default" : "");
}

void CheckReflexive(absl::string_view type) {
  const std::string why = duosync::CheckLengthOnlyChange(type, type);
  if (!why.empty()) Fail(absl::StrCat("CheckLengthOnlyChange('", type, "', the same) refuses: ", why));
}

// Checks one parse; returns it.
ParsedDdl CheckParse(absl::string_view sql, absl::string_view schema, DdlSqlMode mode) {
  ParsedDdl d = duosync::ParseDdl(sql, schema, mode);
  const std::string where = absl::StrCat("ParseDdl under ", ModeName(mode), " in schema '", schema, "'");
  if (d.is_table_ddl != !d.tables.empty()) {
    Fail(absl::StrCat(where, ": table DDL ", d.is_table_ddl, " but ", d.tables.size(), " tables"));
  }
  const bool default_mode = !mode.ansi_quotes && !mode.no_backslash_escapes;
  if (default_mode) {
    if (d.supported != (d.is_table_ddl && d.reason.empty())) {
      Fail(absl::StrCat(where, ": supported ", d.supported, " for table DDL ", d.is_table_ddl, " with reason '",
                        d.reason, "'"));
    }
  } else if (d.is_table_ddl && (d.supported || d.reason.empty())) {
    Fail(absl::StrCat(where, ": table DDL under a non-default sql_mode is not refused with a reason"));
  }
  // (Under another sql_mode the parse keeps its rewrite; the statement is refused all the same.)
  if (default_mode ? d.supported != static_cast<bool>(d.rewrite) : d.supported && !d.rewrite) {
    Fail(absl::StrCat(where, ": supported ", d.supported, " but ", d.rewrite ? "a" : "no", " rewrite"));
  }
  if (d.is_table_ddl != static_cast<bool>(d.rename_tables)) {
    Fail(absl::StrCat(where, ": table DDL ", d.is_table_ddl, " but ", d.rename_tables ? "a" : "no", " table renaming"));
  }
  if (d.rename_tables) {
    // Only table names change: renaming each to itself gives the names quoted, nothing else added.
    auto to_scratch = [](const TableRef& t) { return TableRef{"scratch", "h_" + t.table}; };
    for (const std::vector<TableRef>* list : {&d.tables, &d.source_tables}) {
      for (const TableRef& t : *list) {
        const TableRef s = to_scratch(t);
        if (!absl::StrContains(d.rename_tables(to_scratch), duosync::QuoteTable(s.schema, s.table))) {
          Fail(absl::StrCat(where, ": renaming the tables does not name ", duosync::QuoteTable(s.schema, s.table)));
        }
      }
    }
  }
  for (const ParsedDdl::Modify& m : d.modifies) CheckReflexive(m.type);
  if (!d.supported) return d;

  auto to_destination = [](const TableRef& t) { return TableRef{t.schema + "_dst", "t_" + t.table}; };
  auto same = [](const TableRef& t) { return t; };
  const std::string rewritten = d.rewrite(to_destination);
  if (rewritten.empty()) Fail(absl::StrCat(where, ": an empty rewrite"));
  if (d.rewrite(to_destination) != rewritten) Fail(absl::StrCat(where, ": the rewrite differs when built again"));
  for (const TableRef& t : d.tables) {
    const TableRef dst = to_destination(t);
    if (!absl::StrContains(rewritten, duosync::QuoteTable(dst.schema, dst.table))) {
      Fail(absl::StrCat(where, ": the rewrite does not name ", duosync::QuoteTable(dst.schema, dst.table)));
    }
  }
  if (d.rewrite(same).empty()) Fail(absl::StrCat(where, ": an empty rewrite to the same names"));
  return d;
}

int RunOne(const uint8_t* data, size_t size) {
  const std::string input = duosync_fuzz::Bytes(data, size);
  const absl::string_view sql = input;
  ParsedDdl in_s;
  for (const DdlSqlMode mode : {DdlSqlMode{false, false}, DdlSqlMode{true, false}, DdlSqlMode{false, true},
                                DdlSqlMode{true, true}}) {
    ParsedDdl d = CheckParse(sql, "s", mode);
    if (!mode.ansi_quotes && !mode.no_backslash_escapes) in_s = std::move(d);
    const std::vector<std::string> qualifiers = duosync::QualifiersIn(sql, mode);
    if (qualifiers.size() > size) Fail("QualifiersIn found more names than the statement has bytes");
  }
  const ParsedDdl in_none = CheckParse(sql, "", DdlSqlMode{});
  if (in_none.supported != in_s.supported || in_none.tables.size() != in_s.tables.size()) {
    Fail(absl::StrCat("the default database changes the parse: supported ", in_s.supported, "/", in_none.supported,
                      ", tables ", in_s.tables.size(), "/", in_none.tables.size()));
  }
  const size_t bar = sql.find('|');
  if (bar != absl::string_view::npos) {
    const absl::string_view from = sql.substr(0, bar), to = sql.substr(bar + 1);
    (void)duosync::CheckLengthOnlyChange(from, to);
    (void)duosync::CheckLengthOnlyChange(to, from);
    CheckReflexive(from);
    CheckReflexive(to);
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return RunOne(data, size); }

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
namespace {

// Statements of every kind the parser knows, and some it refuses.
const char* const kSeeds[] = {
    "ALTER TABLE t ADD COLUMN c INT NULL",
    "alter table `x`.`t` drop column c, add index i (c)",
    "ALTER TABLE t ALTER COLUMN c SET DEFAULT 5",
    "ALTER TABLE shop.orders MODIFY COLUMN name VARCHAR(40) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE",
    "ALTER ONLINE IGNORE TABLE t ADD UNIQUE KEY u (a, b), DROP KEY k, ADD KEY IF NOT EXISTS k2 (c)",
    "CREATE TABLE IF NOT EXISTS t2 (id INT PRIMARY KEY, note VARCHAR(10) DEFAULT 'a,b' COMMENT 'x)')",
    "CREATE TABLE t2 LIKE t",
    "CREATE TABLE t3 AS SELECT * FROM t",
    "CREATE OR REPLACE TABLE t (a INT)",
    "CREATE TEMPORARY TABLE t (a INT)",
    "DROP TABLE IF EXISTS `t` /* generated by server */",
    "DROP TABLE a, s2.b, `c``d`",
    "TRUNCATE TABLE t",
    "CREATE UNIQUE INDEX u ON t (a, b)",
    "CREATE FULLTEXT INDEX f ON t (body)",
    "DROP INDEX u ON s.t",
    "RENAME TABLE t TO t_old, s2.a TO s3.b",
    "ALTER TABLE t RENAME TO u",
    "ALTER TABLE t RENAME COLUMN a TO b",
    "ALTER TABLE t CHANGE a b INT",
    "ALTER TABLE t ADD PRIMARY KEY (a)",
    "ALTER TABLE t DROP FOREIGN KEY f",
    "ALTER TABLE t ENGINE=MyISAM",
    "ALTER TABLE t /*!50100 PARTITION BY HASH(id) PARTITIONS 4 */",
    "ALTER TABLE t ADD COLUMN c INT /*M!100301 , ENGINE=MyISAM */",
    "ALTER TABLE t /*!*/ CHANGE a b INT -- trailing comment\n",
    "ALTER TABLE \"s\".\"t\" ADD COLUMN c VARCHAR(5) DEFAULT 'it''s \\' here' # comment",
    "CREATE DATABASE x",
    "GRANT ALL ON *.* TO u",
    "UPDATE shop.orders o JOIN `other` . `t` ON 1--1 SET o.a = 'x.y'",
    "varchar(10)|VARCHAR(20) NOT NULL",
    "decimal(8,2)|decimal(10,3)",
    "mediumtext|text",
    "int(11) unsigned|int(11) zerofill",
};

int WriteSeeds(const std::string& dir, const std::vector<std::string>&) {
  int i = 0;
  for (const char* seed : kSeeds) {
    duosync_fuzz::WriteWholeFile(absl::StrCat(dir, "/seed-", i < 10 ? "0" : "", i), seed);
    ++i;
  }
  printf("%d seeds written to %s\n", i, dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  duosync_fuzz::Replay replay;
  replay.write_seeds = WriteSeeds;
  return duosync_fuzz::ReplayMain(argc, argv, DUOSYNC_FUZZ_CORPUS_DIR, replay);
}
#endif  // DUOSYNC_FUZZ_REPLAY_MAIN
