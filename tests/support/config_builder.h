// ConfigBuilder: a project config for tests, built on the config's protobuf (so a misspelt field
// fails the test instead of passing as unknown JSON) and handed over as JSON, the form users write.
//   ConfigBuilder(db_).Whitelist(db_ + ".*").ForwardOptions(R"({"apply_workers": 8})").Json()
#ifndef DUOSYNC_TESTS_SUPPORT_CONFIG_BUILDER_H_
#define DUOSYNC_TESTS_SUPPORT_CONFIG_BUILDER_H_

#include <initializer_list>
#include <string>

#include "duosync/config.pb.h"

namespace duosync::testing {

class ConfigBuilder {
 public:
  // A project named `name` from the harness's server A to server B, with a forward link of
  // migration type INCREMENTAL and no objects yet.
  explicit ConfigBuilder(const std::string& name);

  // Replaces the endpoint with JSON of its own (another user, an unreachable port).
  ConfigBuilder& EndpointA(const std::string& json);

  // Objects of the forward link: a whitelist pattern ("db.*"), a text import ("db.t1|db.t2"), or
  // the whole selection as JSON.
  ConfigBuilder& Whitelist(const std::string& pattern);
  ConfigBuilder& Import(const std::string& tables);
  ConfigBuilder& Objects(const std::string& json);

  // The forward link's migration types, replacing INCREMENTAL ("SCHEMA", "FULL", ...).
  ConfigBuilder& MigrationTypes(std::initializer_list<config::MigrationType> types);
  // Merges JSON into the forward link, its options, or the reverse link's options.
  ConfigBuilder& Forward(const std::string& json);
  ConfigBuilder& ForwardOptions(const std::string& json);
  ConfigBuilder& ReverseOptions(const std::string& json);

  // An active-active project (a reverse link of migration type INCREMENTAL); `json` is merged into
  // its "active_active" settings (loop prevention, conflicts, origin ids).
  ConfigBuilder& ActiveActive(const std::string& json = "{}");

  // The project's directory for record stores; with `retention_hours`, every link keeps one.
  ConfigBuilder& RecordStores(const std::string& data_dir, int retention_hours = 1);

  // For changes no method above makes.
  config::Project* mutable_proto() { return &project_; }
  std::string Json() const;

 private:
  config::Project project_;
};

}  // namespace duosync::testing

#endif  // DUOSYNC_TESTS_SUPPORT_CONFIG_BUILDER_H_
