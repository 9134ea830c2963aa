#include "config/validation.h"

#include "base/gtid_position.h"

#include <unistd.h>

#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/gtid_position.h"
#include "base/names.h"
#include "config/object_selector.h"
#include "config/resolved_config.h"
#include "config/row_filter.h"
#include "config/secrets.h"
#include "google/protobuf/util/json_util.h"

namespace duosync {
namespace {

using config::DmlOp;
using config::MigrationType;

class Validator {
 public:
  explicit Validator(const config::Project& p) : p_(p) {}

  report::ValidationReport Run() {
    CheckName();
    CheckEndpoint("endpoints.a", p_.endpoints().a(), p_.endpoints().has_a());
    CheckEndpoint("endpoints.b", p_.endpoints().b(), p_.endpoints().has_b());
    CheckTenantModes();
    CheckScenario();
    if (!p_.has_forward()) {
      Error("forward", "the forward link is missing",
            "add \"forward\": {\"migration_types\": [...], \"objects\": {...}}");
    } else {
      CheckLink("forward", p_.forward(), p_.endpoints().a(), "endpoints.a");
    }
    if (p_.has_reverse()) CheckLink("reverse", p_.reverse(), p_.endpoints().b(), "endpoints.b");
    if (p_.has_coordination()) CheckCoordination(p_.coordination());
    report_.set_ok(report_.errors_size() == 0);
    return std::move(report_);
  }

 private:
  void Error(std::string field, std::string message, std::string fix) {
    Add(report_.add_errors(), std::move(field), std::move(message), std::move(fix));
  }
  void Warn(std::string field, std::string message, std::string fix) {
    Add(report_.add_warnings(), std::move(field), std::move(message), std::move(fix));
  }
  static void Add(report::Problem* p, std::string field, std::string message, std::string fix) {
    p->set_field(std::move(field));
    p->set_message(std::move(message));
    p->set_fix(std::move(fix));
  }

  bool case_insensitive() const { return NamesCaseInsensitive(p_); }

  void CheckName() {
    if (p_.name().empty()) {
      Error("name", "the project has no name", "set \"name\" to 1-64 characters");
    } else if (p_.name().size() > 64) {
      Error("name", absl::StrCat("the project name is ", p_.name().size(),
                                 " characters long; at most 64 are allowed"),
            "shorten \"name\" to 64 characters or fewer");
    }
    for (int i = 0; i < p_.tags_size(); ++i) {
      if (p_.tags(i).empty() || p_.tags(i).size() > 64) {
        Error(absl::StrCat("tags[", i, "]"), "a tag must be 1-64 characters",
              "remove the empty tag or shorten it");
      }
    }
  }

  void CheckEndpoint(const std::string& path, const config::Endpoint& e, bool present) {
    if (!present) {
      Error(path, "the endpoint is missing",
            absl::StrCat("add \"", path.substr(path.find('.') + 1),
                         "\": {\"region\", \"host\", \"port\", \"user\", \"password\"}"));
      return;
    }
    if (!e.binlog_dir().empty()) {
      CheckBinlogDirSource(path, e);
      return;
    }
    if (e.host().empty()) Error(path + ".host", "no host given", "set the server's host name or IP");
    if (e.port() == 0 || e.port() > 65535) {
      Error(path + ".port", absl::StrCat("port ", e.port(), " is not a TCP port"),
            "set a port between 1 and 65535 (MySQL's default is 3306, OceanBase's 2881)");
    }
    if (e.user().empty()) Error(path + ".user", "no user given", "set the database user to connect as");
    auto password = ReadPassword(e);
    if (!password.ok()) {
      Error(path + ".password", std::string(password.status().message()),
            absl::IsInvalidArgument(password.status())
                ? "keep one of password, password_env and password_file"
                : "set the variable, or make the file readable by this process");
    }
    if (e.has_tls()) CheckDatabaseTls(path + ".tls", e.tls());
  }

  // TLS to a database: files that exist, and no combination that would allow plaintext silently.
  void CheckDatabaseTls(const std::string& path, const config::Tls& tls) {
    for (const auto& [field, file] : {std::pair<const char*, const std::string*>{"ca", &tls.ca()},
                                      {"cert", &tls.cert()}, {"key", &tls.key()}}) {
      if (!file->empty() && access(file->c_str(), R_OK) != 0) {
        Error(absl::StrCat(path, ".", field), "cannot read the file " + *file,
              "give the path of a PEM file this process can read");
      }
    }
    if (tls.cert().empty() != tls.key().empty()) {
      Error(path + (tls.cert().empty() ? ".cert" : ".key"),
            "a client certificate needs both cert and key", "set both, or neither");
    }
    const bool verify = !tls.has_verify_server_cert() || tls.verify_server_cert();
    if (tls.has_required() && !tls.required() && verify) {
      Error(path + ".required",
            "required false has no effect while the server certificate is verified (a verified "
            "connection is always encrypted)",
            "remove required, or also set verify_server_cert false");
    }
  }

  void CheckCoordination(const config::Coordination& c) {
    const std::string path = "coordination";
    if (c.etcd_endpoints_size() == 0) {
      Error(path + ".etcd_endpoints", "coordination needs etcd's client URLs",
            "list every member of the etcd cluster, e.g. [\"http://10.0.0.1:2379\", ...]");
    }
    for (int i = 0; i < c.etcd_endpoints_size(); ++i) {
      const std::string& url = c.etcd_endpoints(i);
      const bool https = absl::StartsWith(url, "https://");
      const std::string rest = https ? url.substr(8) : absl::StartsWith(url, "http://") ? url.substr(7) : "";
      const size_t colon = rest.rfind(':');
      int port = 0;
      if (rest.empty() || colon == std::string::npos || colon == 0 ||
          !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 || port > 65535 ||
          rest.find('/') != std::string::npos || rest.find('@') != std::string::npos) {
        // Never quoted back: a URL with user:password@ carries a secret.
        Error(absl::StrCat(path, ".etcd_endpoints[", i, "]"),
              rest.find('@') != std::string::npos
                  ? std::string("an etcd endpoint must not carry credentials (user:password@)")
                  : absl::StrCat("'", url, "' is not an etcd client URL"),
              "write http://host:port or https://host:port (etcd's --advertise-client-urls)");
      } else if (https && c.tls().ca().empty()) {
        Error(path + ".tls.ca", absl::StrCat("'", url, "' is https but no CA is given"),
              "set coordination.tls.ca to the CA file that signed etcd's certificate");
      }
    }
    if (c.tls().cert().empty() != c.tls().key().empty()) {
      Error(path + ".tls", "a client certificate needs both cert and key", "set both tls.cert and tls.key, or neither");
    }
    if (c.lease_ttl_seconds() < 2 || c.lease_ttl_seconds() > 60) {
      Error(path + ".lease_ttl_seconds",
            absl::StrCat("a lease of ", c.lease_ttl_seconds(), " s is out of range"),
            "use 2 to 60 seconds: the time a link may stay without a writer after its owner is lost");
    }
    if (!absl::StartsWith(c.key_prefix(), "/") || absl::EndsWith(c.key_prefix(), "/") ||
        c.key_prefix().find_first_of(" \t\n") != std::string::npos) {
      Error(path + ".key_prefix", absl::StrCat("'", c.key_prefix(), "' is not a key prefix"),
            "start it with / and end it without one, e.g. /duosync");
    }
    auto password = ReadSecret(c.password(), c.password_env(), c.password_file());
    if (!password.ok()) {
      Error(path + ".password", std::string(password.status().message()),
            absl::IsInvalidArgument(password.status()) ? "keep one of password, password_env and password_file"
                                                       : "set the variable, or make the file readable by this process");
    } else if (!password->empty() && c.user().empty()) {
      Error(path + ".user", "an etcd password is given without a user", "set coordination.user");
    }
    if (p_.name().find('/') != std::string::npos) {
      Error("name", "a coordinated project's name is part of etcd keys and must not contain '/'",
            "rename the project");
    }
    for (const config::Link* link : {&p_.forward(), &p_.reverse()}) {
      if (link->options().retention_hours() > 0) {
        Warn(path, "each process keeps its own record store: a link taken over by another host starts "
             "a new store there, and a replay reads only what that host recorded",
             "replay on the host that recorded the time you need, or keep retention off in coordinated mode");
        break;
      }
    }
  }

  void CheckTenantModes() {
    const auto& a = p_.endpoints().a();
    const auto& b = p_.endpoints().b();
    if (p_.endpoints().has_a() && p_.endpoints().has_b() && a.tenant_mode() != b.tenant_mode()) {
      Error("endpoints.b.tenant_mode",
            absl::StrCat("endpoint b is a ", config::TenantMode_Name(b.tenant_mode()),
                         " tenant but endpoint a is ", config::TenantMode_Name(a.tenant_mode())),
            "both endpoints of a project must be of the same tenant mode");
    }
    if (p_.tenant_mode() == config::ORACLE) {
      Warn("tenant_mode", "ORACLE tenant mode can be configured and prechecked, but this build "
           "runs links for MYSQL tenants only", "use MYSQL tenants to run the project");
    }
  }

  void CheckScenario() {
    const bool active_active = p_.scenario() == config::ACTIVE_ACTIVE;
    if (!active_active && p_.has_reverse()) {
      Error("reverse", "a DATA_MIGRATION project has no reverse link",
            "remove \"reverse\", or set \"scenario\": \"ACTIVE_ACTIVE\"");
    }
    if (!active_active) return;
    const auto& ra = p_.endpoints().a().region();
    const auto& rb = p_.endpoints().b().region();
    if (ra.empty() || rb.empty()) {
      Error(ra.empty() ? "endpoints.a.region" : "endpoints.b.region",
            "an ACTIVE_ACTIVE project needs the region of each endpoint",
            "set \"region\" on both endpoints");
    } else if (NamesEqual(ra, rb, true)) {
      Error("endpoints.b.region",
            absl::StrCat("both endpoints are in region '", ra,
                         "'; active-active joins two different regions"),
            "put endpoint b in another region, or use DATA_MIGRATION");
    }
    if (!p_.has_reverse()) {
      Error("reverse", "an ACTIVE_ACTIVE project needs a reverse link",
            "add \"reverse\": {\"migration_types\": [\"INCREMENTAL\"]}");
    } else {
      const auto& types = p_.reverse().migration_types();
      if (types.size() != 1 || types[0] != config::INCREMENTAL) {
        Error("reverse.migration_types", "the reverse link of an active-active project runs "
              "incremental migration only", "set \"migration_types\": [\"INCREMENTAL\"]");
      }
    }
    if (p_.has_forward() && !HasMigrationType(p_.forward(), config::INCREMENTAL)) {
      Error("forward.migration_types",
            "an active-active project keeps both regions in step, so the forward link needs "
            "INCREMENTAL", "add \"INCREMENTAL\" to forward.migration_types");
    }
    if (p_.forward().ddl() && p_.reverse().ddl()) {
      Error("reverse.ddl", "DDL sync is enabled on both links; it may be on one link only",
            "set \"ddl\": false on one of the links");
    }
    CheckConflicts(p_.active_active().conflicts());
  }

  // Each link decides its conflicts alone; only policies under which both decide for the same
  // row keep the regions identical.
  void CheckConflicts(const config::ConflictSettings& c) {
    const std::string path = "active_active.conflicts";
    const std::string& priority = c.priority_region();
    if (!priority.empty() && !NamesEqual(priority, p_.endpoints().a().region(), true) &&
        !NamesEqual(priority, p_.endpoints().b().region(), true)) {
      Error(path + ".priority_region",
            absl::StrCat("'", priority, "' is neither endpoint's region ('", p_.endpoints().a().region(),
                         "', '", p_.endpoints().b().region(), "')"),
            "name the region whose changes should win, or leave it out for endpoint a's");
    }
    auto check = [&](const std::string& at, config::ConflictPolicy policy, const std::string& column) {
      if (policy == config::OVERWRITE) {
        Error(at + ".policy",
              "OVERWRITE makes each link apply the other region's change over its own, so the two "
              "regions swap rows instead of converging",
              "use REGION_PRIORITY (the priority_region's change wins on both sides) or "
              "LAST_WRITER_WINS with a version column");
      } else if (policy == config::LAST_WRITER_WINS && column.empty()) {
        Error(at + ".column", "LAST_WRITER_WINS needs the version or timestamp column to compare",
              "set \"column\" to a column every writer raises on each change");
      }
    };
    if (c.log_retention_days() > kMaxConflictLogRetentionDays) {
      Error(path + ".log_retention_days", absl::StrCat(c.log_retention_days(), " days is more than a century"),
            absl::StrCat("keep conflicts at most ", kMaxConflictLogRetentionDays, " days (0 = 30)"));
    }
    check(path, c.policy(), c.column());
    for (int i = 0; i < c.tables_size(); ++i) {
      const auto& t = c.tables(i);
      if (t.policy() == config::CONFLICT_POLICY_UNSPECIFIED && t.column().empty()) continue;  // as above
      const config::ConflictPolicy policy =
          t.policy() == config::CONFLICT_POLICY_UNSPECIFIED ? c.policy() : t.policy();
      check(absl::StrCat(path, ".tables[", i, "]"), policy, t.column().empty() ? c.column() : t.column());
    }
  }

  // An endpoint that is a directory of binlog files can only be read from: the forward link's
  // source of a one-way, incremental-only project.
  void CheckBinlogDirSource(const std::string& path, const config::Endpoint& e) {
    if (path != "endpoints.a") {
      Error(path + ".binlog_dir", "only endpoint a can be a directory of binlog files (it is a "
            "source; b is written to)", "give b a server (host, port, user)");
      return;
    }
    if (p_.scenario() == config::ACTIVE_ACTIVE || p_.has_reverse()) {
      Error(path + ".binlog_dir", "binlog files cannot take writes, so the project cannot be "
            "active-active or have a reverse link", "use scenario DATA_MIGRATION without reverse");
    }
    const auto& types = p_.forward().migration_types();
    if (types.size() != 1 || types[0] != config::INCREMENTAL) {
      Error("forward.migration_types", "a source of binlog files has no tables to copy or compare: "
            "only INCREMENTAL applies", "set \"migration_types\": [\"INCREMENTAL\"] (load the "
            "start state into b first, e.g. from the backup the binlogs follow)");
    }
    if (p_.forward().options().retention_hours() > 0) {
      Error("forward.options.retention_hours", "the binlog files are the record already",
            "set retention_hours to 0");
    }
    if (!e.host().empty() || e.port() != 0) {
      Error(path + ".binlog_dir", "give either a server (host, port) or binlog_dir, not both",
            "remove host and port, or binlog_dir");
    }
  }

  void CheckLink(const std::string& path, const config::Link& link, const config::Endpoint& source,
                 const std::string& source_path) {
    const auto& types = link.migration_types();
    if (types.empty()) {
      Error(path + ".migration_types", "no migration type chosen",
            "list some of SCHEMA, FULL, INCREMENTAL, FULL_VERIFICATION");
    }
    std::set<int> seen;
    for (int i = 0; i < types.size(); ++i) {
      if (types[i] == config::MIGRATION_TYPE_UNSPECIFIED) {
        Error(absl::StrCat(path, ".migration_types[", i, "]"), "unspecified migration type",
              "use SCHEMA, FULL, INCREMENTAL or FULL_VERIFICATION");
      } else if (!seen.insert(types[i]).second) {
        Error(absl::StrCat(path, ".migration_types[", i, "]"),
              absl::StrCat(config::MigrationType_Name(types[i]), " is listed twice"),
              "list each migration type once");
      }
    }
    std::set<int> ops;
    for (int i = 0; i < link.dml_size(); ++i) {
      if (link.dml(i) == config::DML_OP_UNSPECIFIED) {
        Error(absl::StrCat(path, ".dml[", i, "]"), "unspecified DML operation",
              "use INSERT, UPDATE or DELETE");
      }
      ops.insert(link.dml(i));
    }
    const bool incremental = HasMigrationType(link, config::INCREMENTAL);
    if (HasMigrationType(link, config::FULL_VERIFICATION) &&
        !(ops.count(config::INSERT) && ops.count(config::UPDATE) && ops.count(config::DELETE))) {
      Error(path + ".dml", "full verification compares whole tables, so it needs all three DML "
            "operations synced", "set \"dml\": [\"INSERT\", \"UPDATE\", \"DELETE\"] or drop "
            "FULL_VERIFICATION");
    }
    if (link.ddl() && !incremental) {
      Error(path + ".ddl", "DDL sync is part of incremental migration",
            "add INCREMENTAL to migration_types or set \"ddl\": false");
    }
    if (link.ddl() && !UsesMatchingRules(link.objects())) {
      Error(path + ".ddl", "DDL sync needs objects chosen by matching rules (a table created "
            "later can only be matched by a rule)", "choose objects with objects.rules");
    }
    if (incremental && source.has_binlog_enabled() && !source.binlog_enabled()) {
      Error(path + ".migration_types", absl::StrCat("incremental migration reads the source's "
            "binlog, but ", source_path, ".binlog_enabled is false"),
            "enable the binlog (log_bin, or the OceanBase binlog service) on the source and set "
            "binlog_enabled to true, or drop INCREMENTAL");
    }
    if (!link.start_gtid().empty()) CheckGtid(path + ".start_gtid", link.start_gtid());
    CheckOptions(path + ".options", link.options());
    if (link.options().retention_hours() > 0 && p_.data_dir().empty()) {
      Error("data_dir", absl::StrCat(path, ".options.retention_hours keeps incremental records on "
            "disk, but the project has no data_dir"),
            "set \"data_dir\" to a directory of this machine for the record store, or set "
            "retention_hours to 0");
    }
    const bool mirror_allowed = path == "reverse";
    CheckObjects(path + ".objects", link.objects(), mirror_allowed);
  }

  void CheckGtid(const std::string& path, const std::string& gtid) {
    auto parsed = GtidPosition::Parse(gtid);
    if (!parsed.ok()) {
      Error(path, std::string(parsed.status().message()),
            "write it as the source shows it: @@gtid_binlog_pos on MariaDB (\"0-1-100\"), "
            "@@gtid_executed on MySQL (\"uuid:1-100\"), or a binlog file place (\"binlog.000042:1234\")");
    }
  }

  void CheckOptions(const std::string& path, const config::LinkOptions& o) {
    if (o.retention_hours() > 24 * 365) {
      Error(path + ".retention_hours", absl::StrCat(o.retention_hours(), " hours is over a year"),
            "keep incremental records at most 8760 hours");
    }
    if (o.apply_workers() > 256) {
      Error(path + ".apply_workers", absl::StrCat(o.apply_workers(), " workers is too many"),
            "use at most 256 apply workers (each holds a destination connection)");
    }
    if (o.destination_timeout_seconds() > 86400) {
      Error(path + ".destination_timeout_seconds",
            absl::StrCat(o.destination_timeout_seconds(), " seconds is over a day"),
            "use at most 86400 (a DDL is waited for whatever this says)");
    }
    if (o.transaction_part_mb() > 1024) {
      Error(path + ".transaction_part_mb", absl::StrCat(o.transaction_part_mb(), " MiB parts are too big"),
            "use at most 1024 (a part is held in memory, and stored as one record)");
    }
  }

  void CheckObjects(const std::string& path, const config::ObjectSelection& o,
                    bool mirror_allowed) {
    const bool specified = o.tables_size() > 0 || !absl::StripAsciiWhitespace(o.import()).empty();
    const bool rules = o.has_rules();
    if (specified && rules) {
      Error(path, "specified objects (tables/import) and matching rules are exclusive",
            "choose tables one by one, or by rules, not both");
      return;
    }
    if (!specified && !rules) {
      if (!mirror_allowed) {
        Error(path, "no objects selected",
              "list tables in objects.tables / objects.import, or give objects.rules");
      }
      return;  // the reverse link mirrors the forward link's objects
    }
    if (rules) {
      CheckRules(path + ".rules", o.rules());
    } else {
      CheckSpecified(path, o);
    }
  }

  void CheckPattern(const std::string& path, const std::string& pattern) {
    auto ref = SplitQualifiedName(pattern);
    if (!ref.ok()) {
      Error(path, std::string(ref.status().message()),
            "write a pattern as SCHEMA.TABLE with * and ? wildcards, e.g. \"shop.order_*\"");
      return;
    }
    CheckName(path, ref->schema, "schema");
    CheckName(path, ref->table, "table");
  }

  void CheckRules(const std::string& path, const config::MatchingRules& r) {
    if (r.whitelist_size() == 0) {
      Error(path + ".whitelist", "matching rules need at least one whitelist pattern",
            "add a pattern such as \"shop.*\"");
    }
    for (int i = 0; i < r.whitelist_size(); ++i) {
      CheckPattern(absl::StrCat(path, ".whitelist[", i, "]"), r.whitelist(i));
    }
    for (int i = 0; i < r.blacklist_size(); ++i) {
      CheckPattern(absl::StrCat(path, ".blacklist[", i, "]"), r.blacklist(i));
    }
    for (const auto& [from, to] : r.schema_renames()) {
      CheckName(absl::StrCat(path, ".schema_renames[\"", from, "\"]"), from, "schema");
      CheckName(absl::StrCat(path, ".schema_renames[\"", from, "\"]"), to, "schema");
    }
    config::ObjectSelection with_rules;
    *with_rules.mutable_rules() = r;
    with_rules.mutable_rules()->clear_tables();
    ObjectSelector matcher(with_rules, case_insensitive());
    for (int i = 0; i < r.tables_size(); ++i) {
      const std::string tpath = absl::StrCat(path, ".tables[", i, "]");
      CheckTable(tpath, r.tables(i));
      if (!matcher.Select(TableRef{r.tables(i).schema(), r.tables(i).table()})) {
        Warn(tpath, absl::StrCat(r.tables(i).schema(), ".", r.tables(i).table(),
                                 " is not matched by the rules, so its settings are unused"),
             "add it to the whitelist or remove this entry");
      }
    }
    CheckDestinationsUnique(path + ".tables", r.tables());
  }

  void CheckSpecified(const std::string& path, const config::ObjectSelection& o) {
    google::protobuf::RepeatedPtrField<config::TableSelection> all = o.tables();
    for (int i = 0; i < o.tables_size(); ++i) {
      CheckTable(absl::StrCat(path, ".tables[", i, "]"), o.tables(i));
    }
    auto imported = ParseTableImport(o.import());
    if (!imported.ok()) {
      Error(path + ".import", std::string(imported.status().message()),
            "write the import as SCHEMA.T1|SCHEMA.T2|");
    } else {
      for (const TableRef& ref : *imported) {
        CheckName(path + ".import", ref.schema, "schema");
        CheckName(path + ".import", ref.table, "table");
        config::TableSelection* t = all.Add();
        t->set_schema(ref.schema);
        t->set_table(ref.table);
      }
    }
    // The same source table twice is a mistake in the list, not a second mapping.
    std::set<std::string> seen;
    for (const auto& t : all) {
      std::string key = absl::StrCat(t.schema(), ".", t.table());
      if (case_insensitive()) absl::AsciiStrToLower(&key);
      if (!seen.insert(key).second) {
        Error(path, absl::StrCat(t.schema(), ".", t.table(), " is selected more than once"),
              "list each table once (in tables or import)");
      }
    }
    if (static_cast<int>(all.size()) > kManyObjectsWarning) {
      Warn(path, absl::StrCat(all.size(), " objects in one link (more than ",
                              kManyObjectsWarning, ")"),
           "split the tables across several projects for manageable links");
    }
    CheckDestinationsUnique(path + ".tables", all);
  }

  void CheckDestinationsUnique(const std::string& path,
                               const google::protobuf::RepeatedPtrField<config::TableSelection>& ts) {
    std::map<std::string, std::string> source_of;  // destination -> source
    for (const auto& t : ts) {
      TableRef d = ApplyRename(TableRef{t.schema(), t.table()}, t.rename());
      std::string key = d.ToString(), source = absl::StrCat(t.schema(), ".", t.table());
      if (case_insensitive()) {
        absl::AsciiStrToLower(&key);
        absl::AsciiStrToLower(&source);
      }
      auto [it, inserted] = source_of.emplace(key, source);
      if (!inserted && it->second != source) {  // the same source twice is reported already
        Error(path, absl::StrCat("two tables are synced into ", d.ToString()),
              "give each table its own destination name");
      }
    }
  }

  void CheckName(const std::string& path, absl::string_view name, absl::string_view kind) {
    // Wildcards are allowed in patterns; the rules for the remaining characters still hold.
    std::string why = CheckObjectName(name, kind);
    if (!why.empty()) {
      Error(path, why, absl::StrCat("rename the ", kind, " or leave it out of the project"));
    }
  }

  void CheckTable(const std::string& path, const config::TableSelection& t) {
    CheckName(path + ".schema", t.schema(), "schema");
    CheckName(path + ".table", t.table(), "table");
    if (!t.rename().empty()) {
      TableRef d = ApplyRename(TableRef{t.schema(), t.table()}, t.rename());
      CheckName(path + ".rename", d.schema, "schema");
      CheckName(path + ".rename", d.table, "table");
    }
    std::set<std::string> cols;
    for (int i = 0; i < t.columns_size(); ++i) {
      const std::string cpath = absl::StrCat(path, ".columns[", i, "]");
      CheckName(cpath, t.columns(i), "column");
      if (!cols.insert(absl::AsciiStrToLower(t.columns(i))).second) {
        Error(cpath, absl::StrCat("column '", t.columns(i), "' is listed twice"),
              "list each column once");
      }
    }
    if (!t.where().empty()) {
      auto filter = RowFilter::Parse(t.where());
      if (!filter.ok()) {
        Error(path + ".where", std::string(filter.status().message()),
              "use the supported row-filter subset (README, \"Row filters\")");
      } else if (t.columns_size() > 0) {
        for (const std::string& c : (*filter)->Columns()) {
          bool listed = false;
          for (const auto& col : t.columns()) listed = listed || absl::EqualsIgnoreCase(col, c);
          if (!listed) {
            Error(path + ".where", absl::StrCat("the row filter reads column '", c,
                                                "', which is not among the chosen columns"),
                  "add the column to \"columns\" or filter on a chosen column");
          }
        }
      }
    }
  }

  const config::Project& p_;
  report::ValidationReport report_;
};

}  // namespace

bool HasMigrationType(const config::Link& link, config::MigrationType type) {
  for (int t : link.migration_types()) {
    if (t == type) return true;
  }
  return false;
}

bool UsesMatchingRules(const config::ObjectSelection& objects) { return objects.has_rules(); }

absl::StatusOr<config::Project> ParseProjectJson(absl::string_view json) {
  config::Project project;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &project, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config is not valid project JSON: ",
                                                   SafeJsonError(json, status.message().as_string())));
  }
  return project;
}

report::ValidationReport ValidateProject(const config::Project& project) {
  return Validator(project).Run();
}

std::string SummarizeErrors(const report::ValidationReport& report) {
  std::vector<std::string> parts;
  for (const auto& e : report.errors()) {
    parts.push_back(absl::StrCat(e.field(), ": ", e.message(), " (fix: ", e.fix(), ")"));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace duosync
