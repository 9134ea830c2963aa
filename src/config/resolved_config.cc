#include "config/resolved_config.h"

#include "absl/strings/str_cat.h"
#include "base/names.h"
#include "config/object_selector.h"
#include "config/secrets.h"
#include "config/validation.h"

namespace duosync {

void ApplyDefaults(config::Project* p) {
  if (p->tenant_mode() == config::TENANT_MODE_UNSPECIFIED) p->set_tenant_mode(config::MYSQL);
  if (p->scenario() == config::SCENARIO_UNSPECIFIED) p->set_scenario(config::DATA_MIGRATION);
  auto* endpoints = p->mutable_endpoints();
  for (config::Endpoint* e : {endpoints->has_a() ? endpoints->mutable_a() : nullptr,
                              endpoints->has_b() ? endpoints->mutable_b() : nullptr}) {
    if (e != nullptr && e->tenant_mode() == config::TENANT_MODE_UNSPECIFIED) {
      e->set_tenant_mode(p->tenant_mode());
    }
  }
  if (p->has_coordination()) {
    config::Coordination* c = p->mutable_coordination();
    if (c->lease_ttl_seconds() == 0) c->set_lease_ttl_seconds(3);
    if (c->key_prefix().empty()) c->set_key_prefix("/duosync");
  }
  for (config::Link* link : {p->has_forward() ? p->mutable_forward() : nullptr,
                             p->has_reverse() ? p->mutable_reverse() : nullptr}) {
    if (link != nullptr && link->dml_size() == 0) {
      link->add_dml(config::INSERT);
      link->add_dml(config::UPDATE);
      link->add_dml(config::DELETE);
    }
  }
}

bool NamesCaseInsensitive(const config::Project& project) {
  return project.tenant_mode() != config::ORACLE;
}

ConnectOptions ConnectOptionsFor(const config::Endpoint& e) {
  ConnectOptions o;
  o.host = e.host();
  o.port = e.port();
  o.user = e.user();
  // Validation made sure the password can be read; a later failure (the variable gone) leaves it
  // empty, and the server refuses the login.
  auto password = ReadPassword(e);
  if (password.ok()) o.password = *std::move(password);
  if (e.has_tls()) {
    o.tls = true;
    o.tls_ca = e.tls().ca();
    o.tls_cert = e.tls().cert();
    o.tls_key = e.tls().key();
    o.tls_verify_server_cert = !e.tls().has_verify_server_cert() || e.tls().verify_server_cert();
    o.tls_required = !e.tls().has_required() || e.tls().required();
  }
  return o;
}

CopyLevel CopyLevelFor(config::Concurrency level) {
  switch (level) {
    case config::SMOOTH: return CopyLevel{1, 1000};
    case config::FAST: return CopyLevel{8, 10000};
    default: return CopyLevel{4, 5000};  // NORMAL
  }
}

std::pair<uint32_t, uint32_t> OriginIds(const config::Project& project) {
  const auto& aa = project.active_active();
  // Stable per project name, even and odd, away from the small ids servers use and from the ids
  // of the links' binlog dumps (1,000,000,000..3,000,000,000).
  const uint32_t base = 3000000000u + static_cast<uint32_t>(StableHash(project.name()) % 500000000u) * 2;
  return {aa.forward_origin_id() ? aa.forward_origin_id() : base,
          aa.reverse_origin_id() ? aa.reverse_origin_id() : base + 1};
}

std::string LinkId(const config::Project& project, LinkDirection direction) {
  return absl::StrCat(project.name(), "/", LinkName(direction));
}

namespace {

LoopGuard LoopGuardFor(const config::Project& project, LinkDirection direction) {
  LoopGuard guard;
  if (project.scenario() != config::ACTIVE_ACTIVE) return guard;
  if (project.active_active().loop_prevention() == config::MARKER_TABLE) {
    guard.drop_marker_link_id = LinkId(project, Opposite(direction));
    return guard;
  }
  const auto [fwd, rev] = OriginIds(project);
  const bool forward = direction == LinkDirection::kForward;
  guard.own_origin = forward ? fwd : rev;
  guard.drop_origin = forward ? rev : fwd;
  return guard;
}

}  // namespace

LinkConfig ResolveLink(const config::Project& project, LinkDirection direction) {
  const bool forward = direction == LinkDirection::kForward;
  LinkConfig c;
  c.direction = direction;
  c.id = LinkId(project, direction);
  c.source = ConnectOptionsFor(forward ? project.endpoints().a() : project.endpoints().b());
  c.destination = ConnectOptionsFor(forward ? project.endpoints().b() : project.endpoints().a());
  c.case_insensitive = NamesCaseInsensitive(project);
  c.active_active = project.scenario() == config::ACTIVE_ACTIVE;
  c.link = forward ? project.forward() : project.reverse();
  c.objects = EffectiveObjects(project, !forward);
  c.schema_migration = HasMigrationType(c.link, config::SCHEMA);
  c.full_copy = HasMigrationType(c.link, config::FULL);
  c.incremental = HasMigrationType(c.link, config::INCREMENTAL);
  c.start_position = c.link.start_gtid();
  c.source_binlog_dir = (forward ? project.endpoints().a() : project.endpoints().b()).binlog_dir();
  c.guard = LoopGuardFor(project, direction);
  if (c.active_active) {
    c.conflicts = project.active_active().conflicts();
    const std::string& priority = c.conflicts.priority_region();
    const bool a_first = priority.empty() || NamesEqual(priority, project.endpoints().a().region(), true);
    c.incoming_has_priority = forward == a_first;  // the forward link brings region a's changes
  }

  const config::LinkOptions& o = c.link.options();
  if (o.destination_timeout_seconds() > 0) c.destination.read_timeout_s = o.destination_timeout_seconds();
  if (o.apply_workers() > 0) c.apply_workers = o.apply_workers();
  if (o.apply_batch_transactions() > 0) c.apply_batch_transactions = o.apply_batch_transactions();
  if (o.apply_batch_rows() > 0) c.apply_batch_rows = o.apply_batch_rows();
  if (o.transaction_part_mb() > 0) c.transaction_part_bytes = size_t{o.transaction_part_mb()} << 20;
  c.copy = CopyLevelFor(o.full_concurrency());
  c.full_load = o.full_load();
  c.post_indexing = o.post_indexing();
  c.allow_nonempty_destination = o.allow_nonempty_destination();
  c.keeps_records = o.retention_hours() > 0;
  if (c.keeps_records) {
    c.store_dir = absl::StrCat(project.data_dir(), "/", c.id);
    c.retention = absl::Hours(o.retention_hours());
    if (o.store_segment_mb() > 0) c.store_segment_bytes = uint64_t{o.store_segment_mb()} << 20;
  }
  return c;
}

ProjectConfig ResolveProject(const config::Project& project) {
  ProjectConfig p;
  p.raw = project;
  p.case_insensitive = NamesCaseInsensitive(project);
  p.a = ConnectOptionsFor(project.endpoints().a());
  p.b = ConnectOptionsFor(project.endpoints().b());
  p.forward = ResolveLink(project, LinkDirection::kForward);
  if (project.has_reverse()) p.reverse = ResolveLink(project, LinkDirection::kReverse);
  p.verify = CopyLevelFor(project.forward().options().verify_concurrency());
  if (project.has_coordination()) {
    const config::Coordination& c = project.coordination();
    CoordinationConfig& out = p.coordination;
    out.etcd_endpoints.assign(c.etcd_endpoints().begin(), c.etcd_endpoints().end());
    out.ca_file = c.tls().ca();
    out.cert_file = c.tls().cert();
    out.key_file = c.tls().key();
    out.user = c.user();
    auto password = ReadSecret(c.password(), c.password_env(), c.password_file());
    if (password.ok()) out.password = *std::move(password);
    out.lease_ttl_seconds = static_cast<int>(c.lease_ttl_seconds());
    out.key_prefix = c.key_prefix();
  }
  return p;
}

}  // namespace duosync
