#include "support/config_builder.h"

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "support/test_support.h"

namespace duosync::testing {
namespace {

// Parses `json` as an `M` and merges it into `into` (repeated fields append); a JSON or field
// error fails the test.
template <typename M>
void MergeJson(const std::string& json, M* into) {
  M parsed;
  auto s = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(s.ok()) << "test config fragment " << json << ": " << s.message();
  into->MergeFrom(parsed);
}

}  // namespace

ConfigBuilder::ConfigBuilder(const std::string& name) {
  project_.set_name(name);
  MergeJson(ServerPair::A().EndpointJson(), project_.mutable_endpoints()->mutable_a());
  MergeJson(ServerPair::B().EndpointJson(), project_.mutable_endpoints()->mutable_b());
  project_.mutable_forward()->add_migration_types(config::INCREMENTAL);
}

ConfigBuilder& ConfigBuilder::EndpointA(const std::string& json) {
  project_.mutable_endpoints()->clear_a();
  MergeJson(json, project_.mutable_endpoints()->mutable_a());
  return *this;
}

ConfigBuilder& ConfigBuilder::Whitelist(const std::string& pattern) {
  project_.mutable_forward()->mutable_objects()->mutable_rules()->add_whitelist(pattern);
  return *this;
}

ConfigBuilder& ConfigBuilder::Import(const std::string& tables) {
  project_.mutable_forward()->mutable_objects()->set_import(tables);
  return *this;
}

ConfigBuilder& ConfigBuilder::Objects(const std::string& json) {
  MergeJson(json, project_.mutable_forward()->mutable_objects());
  return *this;
}

ConfigBuilder& ConfigBuilder::MigrationTypes(std::initializer_list<config::MigrationType> types) {
  project_.mutable_forward()->clear_migration_types();
  for (config::MigrationType t : types) project_.mutable_forward()->add_migration_types(t);
  return *this;
}

ConfigBuilder& ConfigBuilder::Forward(const std::string& json) {
  MergeJson(json, project_.mutable_forward());
  return *this;
}

ConfigBuilder& ConfigBuilder::ForwardOptions(const std::string& json) {
  MergeJson(json, project_.mutable_forward()->mutable_options());
  return *this;
}

ConfigBuilder& ConfigBuilder::ReverseOptions(const std::string& json) {
  MergeJson(json, project_.mutable_reverse()->mutable_options());
  return *this;
}

ConfigBuilder& ConfigBuilder::ActiveActive(const std::string& json) {
  project_.set_scenario(config::ACTIVE_ACTIVE);
  if (project_.reverse().migration_types_size() == 0) {
    project_.mutable_reverse()->add_migration_types(config::INCREMENTAL);
  }
  MergeJson(json, project_.mutable_active_active());
  return *this;
}

ConfigBuilder& ConfigBuilder::RecordStores(const std::string& data_dir, int retention_hours) {
  project_.set_data_dir(data_dir);
  project_.mutable_forward()->mutable_options()->set_retention_hours(retention_hours);
  if (project_.has_reverse()) project_.mutable_reverse()->mutable_options()->set_retention_hours(retention_hours);
  return *this;
}

std::string ConfigBuilder::Json() const {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  auto s = google::protobuf::util::MessageToJsonString(project_, &out, o);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

}  // namespace duosync::testing
