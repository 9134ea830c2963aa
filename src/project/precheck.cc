#include "project/precheck.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/names.h"
#include "base/system_schemas.h"
#include "config/object_selector.h"
#include "config/resolved_config.h"
#include "config/row_filter.h"
#include "coord/etcd_options.h"
#include "full/table_columns.h"
#include "source/binlog_directory_feed.h"
#include "source/schema_loader.h"
#include "sql/catalog.h"
#include "glog/logging.h"

namespace duosync {
namespace {

// Privileges the current user holds, at global, schema and table level.
struct Privileges {
  std::set<std::string> global;
  std::vector<std::pair<std::string, std::string>> schema;  // (schema pattern, privilege)
  std::set<std::string> table;                               // "schema.table privilege"

  bool Has(const std::string& priv, const TableRef* t = nullptr) const {
    if (global.count(priv) || global.count("ALL PRIVILEGES")) return true;
    if (t == nullptr) return false;
    for (const auto& [pattern, p] : schema) {
      if (p != priv && p != "ALL PRIVILEGES") continue;
      // Schema grants may use LIKE wildcards ('shop\_%').
      std::string w;
      for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) { w += pattern[++i]; continue; }
        w += pattern[i] == '%' ? '*' : pattern[i] == '_' ? '?' : pattern[i];
      }
      if (WildcardMatch(w, t->schema, false)) return true;
    }
    return table.count(absl::StrCat(t->schema, ".", t->table, " ", priv)) > 0;
  }
};

absl::StatusOr<Privileges> ReadPrivileges(SqlConnection* conn) {
  const std::string grantee =
      "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(),'@',1), '''@''', "
      "SUBSTRING_INDEX(CURRENT_USER(),'@',-1), '''')";
  Privileges p;
  auto g = conn->Query(absl::StrCat(
      "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE=", grantee));
  if (!g.ok()) return g.status();
  for (auto& r : *g) p.global.insert(r[0].value_or(""));
  auto s = conn->Query(absl::StrCat(
      "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE=",
      grantee));
  if (!s.ok()) return s.status();
  for (auto& r : *s) p.schema.emplace_back(r[0].value_or(""), r[1].value_or(""));
  auto t = conn->Query(absl::StrCat(
      "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES "
      "WHERE GRANTEE=", grantee));
  if (!t.ok()) return t.status();
  for (auto& r : *t) {
    p.table.insert(absl::StrCat(r[0].value_or(""), ".", r[1].value_or(""), " ", r[2].value_or("")));
  }
  return p;
}

class Prechecker {
 public:
  explicit Prechecker(const ProjectConfig& c) : c_(c), p_(c.raw) {}

  report::PrecheckReport Run() {
    if (!c_.forward.source_binlog_dir.empty()) {  // a roll-forward from binlog files
      CheckBinlogDirectory(c_.forward.source_binlog_dir);
      Connect("b", c_.b);
      report_.set_ok(std::none_of(report_.checks().begin(), report_.checks().end(),
                                  [](const report::Check& c) { return c.status() == report::FAILED; }));
      return std::move(report_);
    }
    Connect("a", c_.a);
    Connect("b", c_.b);
    if (!c_.coordination.etcd_endpoints.empty()) CheckEtcd();
    CheckLink(c_.forward, "a", "b");
    if (c_.reverse.has_value()) CheckLink(*c_.reverse, "b", "a");
    if (p_.scenario() == config::ACTIVE_ACTIVE) CheckActiveActive();
    bool ok = true;
    for (const auto& c : report_.checks()) ok = ok && c.status() != report::FAILED;
    report_.set_ok(ok);
    return std::move(report_);
  }

  // Whether the network failed the checks rather than the project: an endpoint could not be
  // reached, or a connection that answered at the start no longer does.
  bool NetworkFailed() {
    if (unreachable_) return true;
    for (auto& [id, conn] : conns_) {
      if (absl::IsUnavailable(conn->QueryValue("SELECT 1").status())) return true;
    }
    return false;
  }

 private:
  report::Check* Add(const std::string& name, const std::string& endpoint, const std::string& link,
                     report::CheckStatus status, const std::string& message,
                     const std::string& fix = "") {
    report::Check* c = report_.add_checks();
    c->set_name(name);
    c->set_endpoint(endpoint);
    c->set_link(link);
    c->set_status(status);
    c->set_message(message);
    c->set_fix(fix);
    return c;
  }

  // Coordinated mode: etcd answers, with these credentials, under the key prefix.
  void CheckEtcd() {
    const CoordinationConfig& c = c_.coordination;
    auto client = EtcdClient::Create(EtcdOptionsFor(c));
    absl::Status s = client.ok() ? (*client)->ReadPrefix(c.key_prefix + "/members/").status() : client.status();
    if (!s.ok()) {
      Add("coordination", "etcd", "", report::FAILED, std::string(s.message()),
          "start etcd, or check coordination.etcd_endpoints, tls and the etcd user's access to key_prefix");
      return;
    }
    Add("coordination", "etcd", "", report::PASSED,
        absl::StrCat("etcd answers at ", (*client)->current_endpoint(), " (lease ", c.lease_ttl_seconds, " s)"));
  }

  void Connect(const std::string& id, const ConnectOptions& options) {
    auto conn = SqlConnection::Connect(options);
    if (!conn.ok()) {
      unreachable_ = unreachable_ || absl::IsUnavailable(conn.status());
      Add("connectivity", id, "", report::FAILED, std::string(conn.status().message()),
          "check host, port, user and password, and that the server accepts connections from here");
      return;
    }
    Add("connectivity", id, "", report::PASSED, absl::StrCat("connected to ", options.Describe()));
    if (options.tls) {
      const std::string negotiated = (*conn)->TlsDescription();
      if (negotiated.empty()) {  // only when tls.required is false
        Add("tls", id, "", report::WARNING, "the server offered no TLS: this connection is plaintext",
            "turn TLS on in the server (ssl_cert, ssl_key)");
      } else if (!options.tls_verify_server_cert) {
        Add("tls", id, "", report::WARNING,
            absl::StrCat("encrypted with ", negotiated, ", but the server certificate is not verified"),
            "set tls.ca and remove verify_server_cert false");
      } else {
        Add("tls", id, "", report::PASSED,
            absl::StrCat("encrypted with ", negotiated, "; server certificate verified"));
      }
    }
    auto version = (*conn)->QueryValue("SELECT VERSION()");
    std::string v = version.ok() ? version->value_or("") : "";
    // MariaDB >= 10.3 and MySQL >= 5.7 speak the binlog protocol and GTIDs we rely on.
    std::vector<std::string> parts = absl::StrSplit(v, absl::ByAnyChar(".-"));
    int major = 0, minor = 0;
    if (parts.size() >= 2) {
      (void)absl::SimpleAtoi(parts[0], &major);
      (void)absl::SimpleAtoi(parts[1], &minor);
    }
    const bool mariadb = absl::StrContains(absl::AsciiStrToLower(v), "mariadb");
    const bool oceanbase = absl::StrContains(absl::AsciiStrToLower(v), "oceanbase");
    const bool supported = oceanbase || (mariadb ? (major > 10 || (major == 10 && minor >= 3))
                                                 : (major > 5 || (major == 5 && minor >= 7)));
    Add("version", id, "", supported ? report::PASSED : report::FAILED,
        absl::StrCat("server version ", v, supported ? "" : " is not supported"),
        supported ? "" : "use MariaDB 10.3+, MySQL 5.7+ or an OceanBase MySQL tenant");
    conns_[id] = std::move(*conn);
  }

  // Endpoint a is a directory of binlog files: they must be there, readable and of a dialect
  // the link can apply.
  void CheckBinlogDirectory(const std::string& dir) {
    BinlogDirectoryFeed::Options o;
    o.directory = dir;
    o.wants = [](const TableRef&) { return false; };  // only the files' framing is read here
    auto feed = BinlogDirectoryFeed::Open(std::move(o));
    if (!feed.ok()) {
      Add("binlog_files", "a", "forward", report::FAILED, std::string(feed.status().message()),
          "put the binlog files of one server (NAME.NNNNNN, no gap) in binlog_dir");
      return;
    }
    const std::string first = (*feed)->current_file();
    auto t = (*feed)->Next();  // the first transaction (or the end): format and dialect checked
    if (!t.ok()) {
      Add("binlog_files", "a", "forward", report::FAILED, std::string(t.status().message()),
          absl::IsUnimplemented(t.status()) ? "apply MariaDB binlog files, or follow the server itself"
                                            : "copy the binlog files again from the server");
      return;
    }
    std::string positions;
    if (t->has_value()) {
      const Gtid& g = (*t)->gtid;
      positions = g.mysql() ? "; positions are MySQL GTID sets"
                  : g.by_file() ? "; transactions have no GTIDs: positions are file places (name.NNNNNN:offset)"
                                : "; positions are MariaDB GTIDs";
    }
    Add("binlog_files", "a", "forward", report::PASSED,
        absl::StrCat("binlog files from ", first, " are readable (written by ", (*feed)->server_version(), positions,
                     ")"));
  }

  void CheckLink(const LinkConfig& link, const std::string& src, const std::string& dst) {
    const std::string link_name = LinkName(link.direction);
    SqlConnection* source = conns_.count(src) ? conns_[src].get() : nullptr;
    SqlConnection* dest = conns_.count(dst) ? conns_[dst].get() : nullptr;
    if (source == nullptr || dest == nullptr) {
      Add("link", "", link_name, report::FAILED,
          absl::StrCat("the ", link_name, " link cannot be checked: an endpoint is unreachable"),
          "fix the connectivity checks first");
      return;
    }
    const bool incremental = link.incremental;
    if (incremental) CheckBinlog(link_name, src, source, link.start_position);
    auto src_priv = ReadPrivileges(source);
    auto dst_priv = ReadPrivileges(dest);
    if (!src_priv.ok() || !dst_priv.ok()) {
      Add("privileges", !src_priv.ok() ? src : dst, link_name, report::FAILED,
          std::string((!src_priv.ok() ? src_priv.status() : dst_priv.status()).message()),
          "grant the user read access to information_schema");
      return;
    }
    if (incremental) {
      bool repl = src_priv->Has("REPLICATION SLAVE");
      Add("privilege_binlog", src, link_name, repl ? report::PASSED : report::FAILED,
          repl ? "the source user may read the binlog"
               : "the source user lacks REPLICATION SLAVE, needed to read the binlog",
          repl ? "" : "GRANT REPLICATION SLAVE ON *.* TO the source user");
    }
    if (c_.raw.scenario() == config::DATA_MIGRATION) {
      // A switchover with --read-only makes the current source read-only; either endpoint can be it.
      for (const auto& [endpoint, priv] : {std::make_pair(src, &*src_priv), std::make_pair(dst, &*dst_priv)}) {
        const bool can = priv->Has("SUPER") || priv->Has("READ_ONLY ADMIN");
        Add("privilege_read_only", endpoint, link_name, can ? report::PASSED : report::WARNING,
            can ? "the user may make the server read-only for a switchover"
                : "the user cannot make the server read-only (switchover --read-only needs SUPER, or "
                  "READ_ONLY ADMIN on MariaDB 10.11+); a switchover without --read-only still works",
            can ? "" : "GRANT READ_ONLY ADMIN ON *.* (or SUPER) TO the user");
      }
    }
    ObjectSelector selector(link.objects, c_.case_insensitive);
    auto tables = ListTables(source);
    if (!tables.ok()) {
      Add("objects", src, link_name, report::FAILED, std::string(tables.status().message()));
      return;
    }
    const std::vector<SelectedTable> selected = selector.SelectAll(*tables);
    std::vector<std::string> refused;
    for (const TableRef& t : *tables) {
      const std::string why = selector.RefusedName(t);
      if (!why.empty()) refused.push_back(why);
    }
    if (!refused.empty()) {
      Add("object_names", src, link_name, report::WARNING,
          absl::StrCat("tables whose names are not supported are left out: ", absl::StrJoin(refused, "; ")),
          "rename them (no '$$', no Chinese characters) to sync them")
          ->mutable_objects()->Assign(refused.begin(), refused.end());
    }
    std::vector<std::string> missing;
    for (const TableRef& named : selector.named_tables()) {
      bool found = false;
      for (const TableRef& t : *tables) {
        found = found || (NamesEqual(t.schema, named.schema, c_.case_insensitive) &&
                          NamesEqual(t.table, named.table, c_.case_insensitive));
      }
      if (!found) missing.push_back(named.ToString());
    }
    if (!missing.empty()) {
      Add("objects_exist", src, link_name, report::FAILED,
          absl::StrCat("selected tables do not exist on the source, or the source user has no "
                       "privilege on them: ", absl::StrJoin(missing, ", ")),
          "create them on the source, grant the user SELECT on them, or remove them from the "
          "selection")
          ->mutable_objects()->Assign(missing.begin(), missing.end());
    }
    if (selected.empty()) {
      Add("objects", src, link_name, report::FAILED, "no source table matches the selection",
          "check the table names or the matching rules");
      return;
    }
    Add("objects", src, link_name, report::PASSED,
        absl::StrCat(selected.size(), " table(s) selected"));
    CheckReadPrivileges(link_name, src, *src_priv, selected);
    CheckWritePrivileges(link_name, dst, *dst_priv, selected);
    CheckKeys(link_name, src, source, selected);
    CheckForeignKeys(link_name, src, source, selector, selected);
    CheckColumns(link_name, src, source, selected);
    if (!link.schema_migration) CheckDestinationTables(link_name, dst, dest, selected);
  }

  // Active-active needs: no triggers on synced tables, auto-increment keys that cannot collide,
  // origins that are not real server ids, and destinations where a session may set its origin.
  void CheckActiveActive() {
    if (!conns_.count("a") || !conns_.count("b")) return;
    ObjectSelector selector(c_.forward.objects, c_.case_insensitive);
    auto tables = ListTables(conns_["a"].get());
    if (!tables.ok()) return;
    const std::vector<SelectedTable> selected = selector.SelectAll(*tables);
    // Triggers: on either side they would fire again for every applied change.
    std::vector<std::string> triggered;
    bool auto_increment = false;
    for (const auto& [id, side] : {std::pair<std::string, bool>{"a", true}, {"b", false}}) {
      SqlConnection* c = conns_[id].get();
      for (const auto& t : selected) {
        const TableRef& name = side ? t.source : t.destination;
        auto n = c->QueryValue(absl::StrCat(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA=",
            c->Quote(name.schema), " AND EVENT_OBJECT_TABLE=", c->Quote(name.table)));
        if (n.ok() && n->value_or("0") != "0") triggered.push_back(absl::StrCat(id, ":", name.ToString()));
        auto ai = c->QueryValue(absl::StrCat(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=", c->Quote(name.schema),
            " AND TABLE_NAME=", c->Quote(name.table), " AND EXTRA LIKE '%auto_increment%'"));
        auto_increment = auto_increment || (ai.ok() && ai->value_or("0") != "0");
      }
    }
    Add("triggers", "", "", triggered.empty() ? report::PASSED : report::FAILED,
        triggered.empty() ? "no synced table has triggers"
                          : absl::StrCat("synced tables with triggers (they would fire again for "
                                         "applied changes): ", absl::StrJoin(triggered, ", ")),
        triggered.empty() ? "" : "drop the triggers, or leave these tables out of the project")
        ->mutable_objects()->Assign(triggered.begin(), triggered.end());
    // Auto-increment: both regions generating keys must interleave them.
    auto settings = [&](const std::string& id) {
      auto rows = conns_[id]->Query("SELECT @@auto_increment_increment, @@auto_increment_offset, @@server_id");
      std::vector<long> v = {1, 1, 0};
      if (rows.ok() && !rows->empty()) {
        for (int i = 0; i < 3; ++i) (void)absl::SimpleAtoi((*rows)[0][i].value_or("0"), &v[i]);
      }
      return v;
    };
    const auto sa = settings("a"), sb = settings("b");
    const bool interleaved = sa[0] >= 2 && sa[0] == sb[0] && sa[1] % sa[0] != sb[1] % sb[0];
    Add("auto_increment", "", "", !auto_increment || interleaved ? report::PASSED : report::FAILED,
        !auto_increment ? "no synced table uses auto-increment keys"
        : interleaved   ? "auto-increment keys interleave across the regions"
                        : absl::StrCat("synced tables use auto-increment keys, but both regions can "
                                       "generate the same key (increment/offset ", sa[0], "/", sa[1],
                                       " on a, ", sb[0], "/", sb[1], " on b)"),
        !auto_increment || interleaved
            ? ""
            : "SET GLOBAL auto_increment_increment=2 on both servers, auto_increment_offset=1 on a "
              "and 2 on b (and in their configs)");
    if (p_.active_active().loop_prevention() == config::MARKER_TABLE) return;
    // A session's origin survives only in MariaDB's binlog: MySQL-dialect servers (OceanBase's
    // binlog service writes one fixed server_id) lose it.
    for (const std::string id : {"a", "b"}) {
      auto mariadb = SpeaksMariadbReplication(conns_[id].get());
      if (mariadb.ok() && !*mariadb) {
        Add("loop_prevention", id, "", report::FAILED,
            "this endpoint speaks MySQL's replication dialect (MySQL, OceanBase): the session origin "
            "(server_id) SESSION_ORIGIN tags changes with does not survive in its binlog (OceanBase writes one "
            "fixed server_id), so applied changes would come back as its own",
            "set active_active.loop_prevention to MARKER_TABLE");
        return;
      }
    }
    const auto [fwd, rev] = OriginIds(p_);
    const bool clash = fwd == rev || fwd == static_cast<uint32_t>(sa[2]) || fwd == static_cast<uint32_t>(sb[2]) ||
                       rev == static_cast<uint32_t>(sa[2]) || rev == static_cast<uint32_t>(sb[2]);
    Add("origin_ids", "", "", clash ? report::FAILED : report::PASSED,
        absl::StrCat("forward link writes as origin ", fwd, ", reverse link as ", rev, "; servers are ",
                     sa[2], " (a) and ", sb[2], " (b)", clash ? ": they must all differ" : ""),
        clash ? "set active_active.forward_origin_id / reverse_origin_id to unused ids" : "");
    for (const auto& [id, origin] : {std::pair<std::string, uint32_t>{"b", fwd}, {"a", rev}}) {
      absl::Status s = conns_[id]->Execute("SET SESSION server_id=@@global.server_id");
      Add("session_origin", id, "", s.ok() ? report::PASSED : report::FAILED,
          s.ok() ? "the destination user may set its session origin (server_id)"
                 : absl::StrCat("the destination user cannot set its session server_id: ", s.message()),
          s.ok() ? "" : "grant the user SUPER, or use loop_prevention MARKER_TABLE");
    }
  }

  void CheckBinlog(const std::string& link_name, const std::string& src, SqlConnection* source,
                   const std::string& start_position) {
    if (!start_position.empty()) {
      absl::Status fits = CheckStartPosition(source, start_position);
      const bool mismatch = absl::IsInvalidArgument(fits);
      Add("start_position", src, link_name, fits.ok() ? report::PASSED : report::FAILED,
          fits.ok()  ? absl::StrCat("the link starts after ", start_position, " in this source's binlog")
          : mismatch ? std::string(fits.message())
                     : absl::StrCat("cannot read the source's binlog position: ", fits.message()),
          fits.ok()  ? ""
          : mismatch ? "set start_gtid to a position of this source, or remove it to start at its binlog end"
                     : "grant the source user REPLICATION CLIENT (SHOW MASTER STATUS)");
    }
    auto rows = source->Query("SELECT @@log_bin, @@binlog_format, @@binlog_row_image");
    if (!rows.ok() || rows->empty()) {
      Add("binlog", src, link_name, report::FAILED,
          absl::StrCat("cannot read the binlog settings: ", rows.status().message()));
      return;
    }
    const auto& r = (*rows)[0];
    const std::string log_bin = r[0].value_or(""), format = r[1].value_or(""),
                      image = r[2].value_or("");
    const bool on = log_bin == "1" || absl::EqualsIgnoreCase(log_bin, "ON");
    Add("log_bin", src, link_name, on ? report::PASSED : report::FAILED,
        on ? "binary log is on" : "binary log is off: incremental migration has nothing to read",
        on ? "" : "start the server with log_bin (and a server_id), or enable OceanBase's binlog service");
    const bool row = absl::EqualsIgnoreCase(format, "ROW");
    Add("binlog_format", src, link_name, row ? report::PASSED : report::FAILED,
        absl::StrCat("binlog_format is ", format),
        row ? "" : "SET GLOBAL binlog_format=ROW (and in the server config)");
    const bool full = absl::EqualsIgnoreCase(image, "FULL");
    Add("binlog_row_image", src, link_name, full ? report::PASSED : report::FAILED,
        absl::StrCat("binlog_row_image is ", image),
        full ? "" : "SET GLOBAL binlog_row_image=FULL (and in the server config)");
    // Column names in the binlog let rows decode by name; without them (MariaDB's default
    // NO_LOG) they decode by the link's schema history, which starts when the link first starts
    // at the source's binlog end: a configured start position precedes it. (A link started by a
    // version without the history keeps none until it is started anew.)
    auto metadata_row = source->QueryValue("SELECT @@binlog_row_metadata");
    const std::string metadata = metadata_row.ok() ? metadata_row->value_or("") : "";
    const bool names = absl::EqualsIgnoreCase(metadata, "FULL");
    const std::string shown = absl::StrCat("binlog_row_metadata is ", metadata.empty() ? "not supported" : metadata);
    if (names) {
      Add("binlog_row_metadata", src, link_name, report::PASSED, shown);
    } else if (start_position.empty()) {
      keeps_schema_history_.insert(link_name);
      Add("binlog_row_metadata", src, link_name, report::PASSED,
          absl::StrCat(shown, ": the binlog names no columns, so rows decode by the link's schema history "
                       "(kept in the destination's duosync.schema_history, DDL followed in its duosync_scratch)"));
    } else {
      Add("binlog_row_metadata", src, link_name, report::WARNING,
          absl::StrCat(shown, " and the link starts at a configured position: rows without column names "
                       "before a DDL cannot be matched to their columns"),
          "SET GLOBAL binlog_row_metadata=FULL, or start the link at the source's binlog end");
    }
  }

  void CheckReadPrivileges(const std::string& link_name, const std::string& src,
                           const Privileges& priv, const std::vector<SelectedTable>& selected) {
    std::vector<std::string> denied;
    for (const auto& t : selected) {
      if (!priv.Has("SELECT", &t.source)) denied.push_back(t.source.ToString());
    }
    auto* c = Add("privilege_read", src, link_name, denied.empty() ? report::PASSED : report::FAILED,
                  denied.empty() ? "the source user may read every selected table"
                                 : absl::StrCat("the source user lacks SELECT on: ",
                                                absl::StrJoin(denied, ", ")),
                  denied.empty() ? "" : "GRANT SELECT ON each schema (or table) TO the source user");
    c->mutable_objects()->Assign(denied.begin(), denied.end());
  }

  void CheckWritePrivileges(const std::string& link_name, const std::string& dst,
                            const Privileges& priv, const std::vector<SelectedTable>& selected) {
    std::vector<std::string> denied;
    for (const auto& t : selected) {
      for (const char* p : {"INSERT", "UPDATE", "DELETE"}) {
        if (!priv.Has(p, &t.destination)) {
          denied.push_back(absl::StrCat(t.destination.ToString(), " (", p, ")"));
        }
      }
    }
    // The checkpoint lives in the destination's `duosync` schema.
    TableRef meta{kMetaSchema, "checkpoint"};
    for (const char* p : {"CREATE", "INSERT", "UPDATE", "DELETE"}) {
      if (!priv.Has(p, &meta)) denied.push_back(absl::StrCat("duosync.* (", p, ")"));
    }
    // The schema history replays DDL on copies in the scratch schema.
    if (keeps_schema_history_.count(link_name) != 0) {
      TableRef scratch{kScratchSchema, "t"};
      for (const char* p : {"CREATE", "ALTER", "DROP", "INDEX"}) {
        if (!priv.Has(p, &scratch)) denied.push_back(absl::StrCat(kScratchSchema, ".* (", p, ")"));
      }
    }
    auto* c = Add("privilege_write", dst, link_name, denied.empty() ? report::PASSED : report::FAILED,
                  denied.empty() ? "the destination user may write every selected table"
                                 : absl::StrCat("the destination user lacks: ",
                                                absl::StrJoin(denied, ", ")),
                  denied.empty() ? ""
                                 : "GRANT INSERT, UPDATE, DELETE on the synced schemas and ALL on "
                                   "duosync.* (and duosync_scratch.* when the source logs no column "
                                   "names) TO the destination user");
    c->mutable_objects()->Assign(denied.begin(), denied.end());
  }

  void CheckKeys(const std::string& link_name, const std::string& src, SqlConnection* source,
                 const std::vector<SelectedTable>& selected) {
    std::vector<TableRef> refs;
    for (const auto& t : selected) refs.push_back(t.source);
    auto info = ReadKeyInfo(source, refs);
    if (!info.ok()) {
      Add("keys", src, link_name, report::FAILED, std::string(info.status().message()));
      return;
    }
    std::vector<std::string> keyless, untrusted;
    for (const auto& k : *info) {
      if (!k.has_primary_key && !k.has_not_null_unique_key) keyless.push_back(k.table.ToString());
      if (k.has_untrusted_unique_key) untrusted.push_back(k.table.ToString());
    }
    const bool all_keyless = keyless.size() == info->size();
    auto* c = Add("keys", src, link_name,
                  keyless.empty() ? report::PASSED : all_keyless ? report::FAILED : report::WARNING,
                  keyless.empty()
                      ? "every selected table has a primary key or a NOT NULL unique key"
                      : absl::StrCat("tables without a primary key or NOT NULL unique key are "
                                     "filtered out: ", absl::StrJoin(keyless, ", ")),
                  keyless.empty() ? "" : "add a primary key to each listed table to sync it");
    c->mutable_objects()->Assign(keyless.begin(), keyless.end());
    if (!untrusted.empty()) {
      Add("function_keys", src, link_name, report::WARNING,
          absl::StrCat("tables with function-based or hash unique keys are applied serially: ",
                       absl::StrJoin(untrusted, ", ")),
          "replace such keys with plain unique keys for parallel apply")
          ->mutable_objects()->Assign(untrusted.begin(), untrusted.end());
    }
  }

  // A synced row's foreign key is checked on the destination (its cascades repeat the source's):
  // the parent rows must be there, so a parent table outside the selection is named.
  void CheckForeignKeys(const std::string& link_name, const std::string& src, SqlConnection* source,
                        const ObjectSelector& selector, const std::vector<SelectedTable>& selected) {
    auto fks = ReadForeignKeys(source);
    if (!fks.ok()) {
      Add("foreign_keys", src, link_name, report::FAILED, std::string(fks.status().message()));
      return;
    }
    std::vector<std::string> outside;
    for (const ForeignKeyRef& fk : *fks) {
      const bool child_synced = std::any_of(selected.begin(), selected.end(), [&](const SelectedTable& t) {
        return NamesEqual(t.source.schema, fk.child.schema, c_.case_insensitive) &&
               NamesEqual(t.source.table, fk.child.table, c_.case_insensitive);
      });
      if (child_synced && !selector.Select(fk.parent).has_value()) {
        outside.push_back(absl::StrCat(fk.child.ToString(), " -> ", fk.parent.ToString(), " (", fk.name, ")"));
      }
    }
    auto* c = Add("foreign_keys", src, link_name, outside.empty() ? report::PASSED : report::WARNING,
                  outside.empty() ? "every foreign key of a selected table references a selected table"
                                  : absl::StrCat("foreign keys reference tables outside the selection: ",
                                                 absl::StrJoin(outside, ", "),
                                                 "; the destination must already hold every referenced "
                                                 "row, or applying a row that references a missing one stops the link"),
                  outside.empty() ? "" : "add the referenced tables to the selection");
    c->mutable_objects()->Assign(outside.begin(), outside.end());
  }

  void CheckColumns(const std::string& link_name, const std::string& src, SqlConnection* source,
                    const std::vector<SelectedTable>& selected) {
    std::vector<std::string> problems;
    for (const auto& t : selected) {
      if (t.columns.empty() && t.where.empty()) continue;
      auto rows = source->Query(absl::StrCat(
          "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=",
          source->Quote(t.source.schema), " AND TABLE_NAME=", source->Quote(t.source.table)));
      if (!rows.ok()) continue;
      std::vector<std::string> names;
      for (auto& r : *rows) names.push_back(r[0].value_or(""));
      auto has = [&](const std::string& c) {
        for (auto& n : names) if (absl::EqualsIgnoreCase(n, c)) return true;
        return false;
      };
      for (const auto& c : t.columns) {
        if (!has(c)) problems.push_back(absl::StrCat(t.source.ToString(), ".", c, " does not exist"));
      }
      const std::vector<std::string> orphans = GeneratedFromLeftOutColumns(source, t);
      if (!orphans.empty()) {
        problems.push_back(absl::StrCat(t.source.ToString(), ": generated column(s) ", absl::StrJoin(orphans, ", "),
                                        " computed from a column the choice leaves out; choose it too"));
      }
      if (!t.where.empty()) {
        auto filter = RowFilter::Parse(t.where);
        auto schema = LoadTableSchema(source, t.source);
        if (filter.ok()) {
          // Typed: a literal its column's type reads differently (an invalid date) is named here,
          // not at the link's first row.
          absl::Status bound = schema.ok() ? (*filter)->Bind(schema->columns, nullptr) : (*filter)->Bind(names);
          if (!bound.ok()) problems.push_back(absl::StrCat(t.source.ToString(), ": ", bound.message()));
        }
      }
    }
    if (!problems.empty()) {
      Add("columns", src, link_name, report::FAILED, absl::StrJoin(problems, "; "),
          "fix columns / where: the column names, and literals the column's type reads as written");
    }
  }

  void CheckDestinationTables(const std::string& link_name, const std::string& dst,
                              SqlConnection* dest, const std::vector<SelectedTable>& selected) {
    auto tables = ListTables(dest);
    if (!tables.ok()) return;
    std::set<std::string> have;
    for (const auto& t : *tables) have.insert(absl::AsciiStrToLower(t.ToString()));
    std::vector<std::string> missing;
    for (const auto& t : selected) {
      if (!have.count(absl::AsciiStrToLower(t.destination.ToString()))) {
        missing.push_back(t.destination.ToString());
      }
    }
    Add("destination_tables", dst, link_name, missing.empty() ? report::PASSED : report::FAILED,
        missing.empty() ? "every destination table exists"
                        : absl::StrCat("destination tables missing (and SCHEMA migration is off): ",
                                       absl::StrJoin(missing, ", ")),
        missing.empty() ? "" : "create them on the destination or add SCHEMA to migration_types")
        ->mutable_objects()->Assign(missing.begin(), missing.end());
  }

  const ProjectConfig& c_;
  const config::Project& p_;  // c_.raw
  report::PrecheckReport report_;
  std::map<std::string, std::unique_ptr<SqlConnection>> conns_;
  bool unreachable_ = false;  // a connection failed for the network's sake
  std::set<std::string> keeps_schema_history_;  // links whose source logs no column names
};

}  // namespace

report::PrecheckReport RunPrecheck(const ProjectConfig& project) {
  // A restart after a crash often meets the network blip that caused it: checks the network
  // failed (a connection refused or cut midway) are run again, up to three times over some three
  // seconds, before the report blames the project.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    Prechecker checker(project);
    report::PrecheckReport report = checker.Run();
    if (report.ok() || attempt == kAttempts || !checker.NetworkFailed()) return report;
    LOG(WARNING) << "precheck: an endpoint could not be reached or its connection was cut; checking again";
    absl::SleepFor(absl::Seconds(attempt));
  }
}

}  // namespace duosync
