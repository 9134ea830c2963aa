#include "config/object_selector.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/names.h"
#include "base/system_schemas.h"

namespace duosync {

bool WildcardMatch(absl::string_view pattern, absl::string_view text, bool case_insensitive) {
  auto eq = [&](char a, char b) {
    return case_insensitive ? absl::ascii_tolower(a) == absl::ascii_tolower(b) : a == b;
  };
  // Iterative matcher with one backtrack point for the last '*': linear in practice.
  size_t p = 0, t = 0, star = absl::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::StatusOr<TableRef> SplitQualifiedName(absl::string_view name) {
  size_t dot = name.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not of the form SCHEMA.TABLE"));
  }
  return TableRef{std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

absl::StatusOr<std::vector<TableRef>> ParseTableImport(absl::string_view text) {
  std::vector<TableRef> out;
  for (absl::string_view item : absl::StrSplit(text, '|')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    auto ref = SplitQualifiedName(item);
    if (!ref.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("import item ", ref.status().message(), "; write SCHEMA.T1|SCHEMA.T2|"));
    }
    out.push_back(*std::move(ref));
  }
  return out;
}

TableRef ApplyRename(const TableRef& source, absl::string_view rename) {
  if (rename.empty()) return source;
  size_t dot = rename.find('.');
  if (dot == absl::string_view::npos) return TableRef{source.schema, std::string(rename)};
  return TableRef{std::string(rename.substr(0, dot)), std::string(rename.substr(dot + 1))};
}

namespace {

void Mirror(config::ObjectSelection* objects) {
  auto flip = [](config::TableSelection* t) {
    TableRef dest = ApplyRename(TableRef{t->schema(), t->table()}, t->rename());
    t->set_rename(absl::StrCat(t->schema(), ".", t->table()));
    t->set_schema(dest.schema);
    t->set_table(dest.table);
    t->clear_where();
  };
  for (auto& t : *objects->mutable_tables()) flip(&t);
  if (auto imported = ParseTableImport(objects->import()); imported.ok()) {
    for (const TableRef& ref : *imported) {
      config::TableSelection* t = objects->add_tables();
      t->set_schema(ref.schema);
      t->set_table(ref.table);
    }
  }
  objects->clear_import();
  if (objects->has_rules()) {
    auto* rules = objects->mutable_rules();
    // Patterns name source schemas; a renamed schema is matched under its destination name.
    for (auto* patterns : {rules->mutable_whitelist(), rules->mutable_blacklist()}) {
      for (auto& pattern : *patterns) {
        auto ref = SplitQualifiedName(pattern);
        if (ref.ok() && rules->schema_renames().count(ref->schema)) {
          pattern = absl::StrCat(rules->schema_renames().at(ref->schema), ".", ref->table);
        }
      }
    }
    google::protobuf::Map<std::string, std::string> inverted;
    for (const auto& [from, to] : rules->schema_renames()) inverted[to] = from;
    *rules->mutable_schema_renames() = inverted;
    for (auto& t : *rules->mutable_tables()) flip(&t);
  }
}

}  // namespace

config::ObjectSelection EffectiveObjects(const config::Project& project, bool reverse) {
  if (!reverse) return project.forward().objects();
  const config::ObjectSelection& own = project.reverse().objects();
  if (own.has_rules() || own.tables_size() > 0 || !own.import().empty()) return own;
  config::ObjectSelection mirrored = project.forward().objects();
  Mirror(&mirrored);
  return mirrored;
}

ObjectSelector::ObjectSelector(const config::ObjectSelection& objects, bool case_insensitive)
    : objects_(objects), case_insensitive_(case_insensitive) {
  uses_rules_ = objects.rules().whitelist_size() > 0;
  if (uses_rules_) {
    specs_.assign(objects.rules().tables().begin(), objects.rules().tables().end());
    return;
  }
  specs_.assign(objects.tables().begin(), objects.tables().end());
  if (auto imported = ParseTableImport(objects.import()); imported.ok()) {
    for (const TableRef& ref : *imported) {
      config::TableSelection spec;
      spec.set_schema(ref.schema);
      spec.set_table(ref.table);
      if (FindSpec(ref) == nullptr) specs_.push_back(spec);
    }
  }
  for (const auto& spec : specs_) named_.push_back(TableRef{spec.schema(), spec.table()});
}

bool ObjectSelector::MayHoldSchema(absl::string_view schema) const {
  if (IsSystemSchema(schema)) return false;
  if (uses_rules_) {
    for (const auto& pattern : objects_.rules().whitelist()) {
      auto ref = SplitQualifiedName(pattern);
      if (ref.ok() && WildcardMatch(ref->schema, schema, case_insensitive_)) return true;
    }
    return false;
  }
  for (const TableRef& t : named_) {
    if (NamesEqual(t.schema, schema, case_insensitive_)) return true;
  }
  return false;
}

const config::TableSelection* ObjectSelector::FindSpec(const TableRef& table) const {
  for (const auto& spec : specs_) {
    if (NamesEqual(spec.schema(), table.schema, case_insensitive_) &&
        NamesEqual(spec.table(), table.table, case_insensitive_)) {
      return &spec;
    }
  }
  return nullptr;
}

std::vector<SelectedTable> ObjectSelector::SelectAll(const std::vector<TableRef>& tables) const {
  std::vector<SelectedTable> out;
  for (const TableRef& t : tables) {
    if (auto selected = Select(t)) out.push_back(*std::move(selected));
  }
  return out;
}

namespace {

// Why a name is refused whatever selects it: '$$' (the full copy's bookkeeping relies on no table
// name holding it) or Chinese characters. (Length is checked where names are written in the
// config only: a server's 64-character name may be longer in bytes.)
std::string RefusedNameOf(absl::string_view name, absl::string_view kind) {
  if (absl::StrContains(name, "$$")) return absl::StrCat(kind, " name '", name, "' contains '$$'");
  if (HasChineseCharacter(name)) {
    return absl::StrCat(kind, " name '", name, "' contains Chinese characters (or invalid UTF-8)");
  }
  return "";
}

}  // namespace

std::string ObjectSelector::RefusedName(const TableRef& table) const {
  std::string why = RefusedNameOf(table.schema, "schema");
  if (why.empty()) why = RefusedNameOf(table.table, "table");
  if (why.empty() || !SelectByRules(table).has_value()) return "";
  return why;
}

std::optional<SelectedTable> ObjectSelector::Select(const TableRef& table) const {
  // Names the config may not hold are not synced when a rule matches them either.
  if (!RefusedNameOf(table.schema, "schema").empty() || !RefusedNameOf(table.table, "table").empty()) {
    return std::nullopt;
  }
  return SelectByRules(table);
}

std::optional<SelectedTable> ObjectSelector::SelectByRules(const TableRef& table) const {
  if (IsSystemSchema(table.schema)) return std::nullopt;  // never synced, whatever the rules say
  const config::TableSelection* spec = FindSpec(table);
  SelectedTable out;
  out.source = table;
  out.destination = table;
  if (uses_rules_) {
    const std::string name = table.ToString();
    bool white = false;
    for (const auto& pattern : objects_.rules().whitelist()) {
      if (WildcardMatch(pattern, name, case_insensitive_)) white = true;
    }
    if (!white) return std::nullopt;
    for (const auto& pattern : objects_.rules().blacklist()) {
      if (WildcardMatch(pattern, name, case_insensitive_)) return std::nullopt;
    }
    for (const auto& [from, to] : objects_.rules().schema_renames()) {
      if (NamesEqual(from, table.schema, case_insensitive_)) out.destination.schema = to;
    }
  } else if (spec == nullptr) {
    return std::nullopt;
  }
  if (spec != nullptr) {
    out.destination = ApplyRename(out.destination, spec->rename());
    out.where = spec->where();
    out.columns.assign(spec->columns().begin(), spec->columns().end());
  }
  return out;
}

}  // namespace duosync
