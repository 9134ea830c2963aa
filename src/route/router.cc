#include "route/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace duosync {

Router::Router(const config::Link& link, const config::ObjectSelection& objects,
               bool case_insensitive, std::unique_ptr<FilterOracle> filter_oracle)
    : selector_(objects, case_insensitive), insert_(false), update_(false), delete_(false),
      filter_oracle_(std::move(filter_oracle)) {
  for (int op : link.dml()) {
    insert_ = insert_ || op == config::INSERT;
    update_ = update_ || op == config::UPDATE;
    delete_ = delete_ || op == config::DELETE;
  }
}

bool Router::Wants(const TableRef& table) const {
  if (selector_.Select(table).has_value()) return true;
  const std::string why = selector_.RefusedName(table);  // (cheap for a name that is not refused)
  if (!why.empty()) {
    std::lock_guard<std::mutex> lock(refused_mu_);
    if (refused_.emplace(table.ToString(), why).second) {
      refused_count_.store(refused_.size());
      LOG(WARNING) << "table " << table.ToString() << " matches the rules but is not synced: " << why;
    }
  }
  return false;
}

std::vector<std::string> Router::RefusedTables() const {
  std::lock_guard<std::mutex> lock(refused_mu_);
  std::vector<std::string> out;
  for (const auto& [name, why] : refused_) out.push_back(absl::StrCat(name, ": ", why));
  return out;
}

std::vector<std::string> Router::FilteredTables() const {
  return std::vector<std::string>(filtered_.begin(), filtered_.end());
}

absl::StatusOr<const Route*> Router::RouteFor(const std::shared_ptr<const TableSchema>& schema) {
  auto it = routes_.find(schema.get());
  if (it != routes_.end()) return it->second.get();
  keep_alive_.push_back(schema);  // the map is keyed by address: keep the schema alive
  std::unique_ptr<Route> route;
  auto selected = selector_.Select(TableRef{schema->schema, schema->table});
  if (selected.has_value()) {
    if (schema->key_columns.empty()) {
      if (filtered_.insert(schema->QualifiedName()).second) {
        LOG(WARNING) << "table " << schema->QualifiedName()
                     << " has no primary key or NOT NULL unique key: not synced";
      }
    } else {
      route = std::make_unique<Route>();
      route->schema = schema;
      route->destination = selected->destination;
      route->key_columns = schema->key_columns;
      if (selected->columns.empty()) {
        for (size_t i = 0; i < schema->columns.size(); ++i) {
          if (!schema->columns[i].generated) route->columns.push_back(i);
        }
      } else {
        for (const std::string& name : selected->columns) {
          int c = schema->ColumnIndex(name);
          if (c < 0) {
            return absl::FailedPreconditionError(absl::StrCat(
                "chosen column '", name, "' does not exist in ", schema->QualifiedName()));
          }
          if (!schema->columns[c].generated) route->columns.push_back(c);
        }
        for (int k : route->key_columns) {
          if (schema->columns[k].generated) continue;  // matched by its value, computed on both sides
          bool chosen = false;
          for (int c : route->columns) chosen = chosen || c == k;
          if (!chosen) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the chosen columns of ", schema->QualifiedName(), " leave out key column '",
                schema->columns[k].name, "'; add it to \"columns\""));
          }
        }
      }
      if (!selected->where.empty()) {
        auto filter = RowFilter::Parse(selected->where);
        if (!filter.ok()) return filter.status();
        absl::Status bound = (*filter)->Bind(schema->columns, filter_oracle_.get());
        if (!bound.ok()) {
          return absl::FailedPreconditionError(
              absl::StrCat(schema->QualifiedName(), ": ", bound.message()));
        }
        route->filter = std::move(*filter);
      }
      for (const ForeignKey& fk : schema->foreign_keys) {
        auto parent = selector_.Select(TableRef{fk.parent_schema, fk.parent_table});
        const bool written = std::all_of(fk.columns.begin(), fk.columns.end(), [&](int c) {
          return std::find(route->columns.begin(), route->columns.end(), c) != route->columns.end();
        });
        if (parent.has_value() && written) {
          route->parent_keys.push_back(ParentKey{parent->destination, fk.columns, fk.parent_columns});
        }
      }
    }
  }
  const Route* out = route.get();
  routes_[schema.get()] = std::move(route);
  return out;
}

absl::StatusOr<std::vector<RoutedChange>> Router::RouteTransaction(const Transaction& txn) {
  std::vector<RoutedChange> out;
  for (const RowChange& change : txn.changes) {
    auto route = RouteFor(change.table);
    if (!route.ok()) return route.status();
    if (*route == nullptr) continue;
    const Route* r = *route;
    // Whether an image passes the route's filter (every image passes without one).
    auto passes = [&](const Row& image) -> absl::StatusOr<bool> {
      if (!r->filter) return true;
      auto pass = r->filter->Matches(image);
      if (!pass.ok()) {
        return absl::Status(pass.status().code(), absl::StrCat(r->schema->QualifiedName(), ": ",
                                                               pass.status().message()));
      }
      return *pass;
    };
    switch (change.op) {
      case RowOp::kInsert: {
        if (!insert_) break;
        auto in = passes(change.after);
        if (!in.ok()) return in.status();
        if (*in) out.push_back({RowOp::kInsert, r, nullptr, &change.after, change.foreign_key_checks_off});
        break;
      }
      case RowOp::kDelete: {
        if (!delete_) break;
        auto in = passes(change.before);
        if (!in.ok()) return in.status();
        if (*in) out.push_back({RowOp::kDelete, r, &change.before, nullptr, change.foreign_key_checks_off});
        break;
      }
      case RowOp::kUpdate: {
        if (!update_) break;
        auto was_in = passes(change.before);
        if (!was_in.ok()) return was_in.status();
        auto is_in = passes(change.after);
        if (!is_in.ok()) return is_in.status();
        if (*was_in && *is_in) out.push_back({RowOp::kUpdate, r, &change.before, &change.after, change.foreign_key_checks_off});
        else if (*was_in) out.push_back({RowOp::kDelete, r, &change.before, nullptr, change.foreign_key_checks_off});
        else if (*is_in) out.push_back({RowOp::kInsert, r, nullptr, &change.after, change.foreign_key_checks_off});
        break;
      }
    }
  }
  return out;
}

}  // namespace duosync
