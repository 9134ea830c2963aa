#include "store/store_codec.h"

#include "absl/strings/str_cat.h"
#include "duosync/store.pb.h"
#include "store/record_file.h"

namespace duosync {
namespace {

void EncodeRow(const Row& row, store::Row* out) {
  for (const Value& v : row) {
    store::Value* x = out->add_values();
    switch (v.kind) {
      case Value::Kind::kNull: break;
      case Value::Kind::kInt: x->set_int_value(v.i); break;
      case Value::Kind::kUInt: x->set_uint_value(v.u); break;
      case Value::Kind::kDouble: x->set_double_value(v.d); break;
      case Value::Kind::kString: x->set_text(v.s); break;
      case Value::Kind::kBytes: x->set_bytes_value(v.s); break;
    }
  }
}

void EncodeSchema(const TableSchema& s, uint32_t id, store::Schema* out) {
  out->set_id(id);
  out->set_schema(s.schema);
  out->set_table(s.table);
  for (const ColumnSchema& c : s.columns) {
    store::Column* x = out->add_columns();
    x->set_name(c.name);
    x->set_type(c.type);
    x->set_meta(c.meta);
    x->set_is_unsigned(c.is_unsigned);
    x->set_charset(c.charset);
    x->set_collation(c.collation);
    x->set_generated(c.generated);
    x->set_on_update(c.on_update);
  }
  for (int k : s.key_columns) out->add_key_columns(k);
  for (const auto& key : s.unique_keys) {
    store::KeyColumns* x = out->add_unique_keys();
    for (int k : key) x->add_columns(k);
  }
  out->set_has_untrusted_unique_key(s.has_untrusted_unique_key);
  for (const ForeignKey& fk : s.foreign_keys) {
    store::ForeignKey* x = out->add_foreign_keys();
    for (int k : fk.columns) x->add_columns(k);
    x->set_parent_schema(fk.parent_schema);
    x->set_parent_table(fk.parent_table);
    for (const std::string& c : fk.parent_columns) x->add_parent_columns(c);
  }
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("store record: ", what));
}

absl::Status CheckColumns(const google::protobuf::RepeatedField<int32_t>& cols, size_t n) {
  for (int32_t c : cols) {
    if (c < 0 || static_cast<size_t>(c) >= n) return Corrupt(absl::StrCat("key column ", c, " out of range"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<TableSchema>> DecodeSchema(const store::Schema& s) {
  auto out = std::make_shared<TableSchema>();
  out->schema = s.schema();
  out->table = s.table();
  for (const store::Column& c : s.columns()) {
    if (c.type() > 255 || c.meta() > 0xffff) return Corrupt("column type out of range");
    ColumnSchema col;
    col.name = c.name();
    col.type = static_cast<uint8_t>(c.type());
    col.meta = static_cast<uint16_t>(c.meta());
    col.is_unsigned = c.is_unsigned();
    col.charset = c.charset();
    col.collation = c.collation();
    col.generated = c.generated();
    col.on_update = c.on_update();
    out->columns.push_back(std::move(col));
  }
  const size_t n = out->columns.size();
  absl::Status s1 = CheckColumns(s.key_columns(), n);
  if (!s1.ok()) return s1;
  out->key_columns.assign(s.key_columns().begin(), s.key_columns().end());
  for (const store::KeyColumns& key : s.unique_keys()) {
    absl::Status s2 = CheckColumns(key.columns(), n);
    if (!s2.ok()) return s2;
    out->unique_keys.emplace_back(key.columns().begin(), key.columns().end());
  }
  out->has_untrusted_unique_key = s.has_untrusted_unique_key();
  for (const store::ForeignKey& fk : s.foreign_keys()) {
    absl::Status s3 = CheckColumns(fk.columns(), n);
    if (!s3.ok()) return s3;
    if (fk.parent_columns_size() != fk.columns_size()) return Corrupt("foreign key column counts differ");
    out->foreign_keys.push_back(ForeignKey{{fk.columns().begin(), fk.columns().end()}, fk.parent_schema(),
                                           fk.parent_table(), {fk.parent_columns().begin(), fk.parent_columns().end()}});
  }
  return out;
}

absl::StatusOr<Row> DecodeRow(const store::Row& row, size_t columns) {
  if (static_cast<size_t>(row.values_size()) != columns) {
    return Corrupt(absl::StrCat("a row of ", row.values_size(), " values for ", columns, " columns"));
  }
  Row out;
  out.reserve(columns);
  for (const store::Value& v : row.values()) {
    switch (v.value_case()) {
      case store::Value::VALUE_NOT_SET: out.push_back(Value::Null()); break;
      case store::Value::kIntValue: out.push_back(Value::Int(v.int_value())); break;
      case store::Value::kUintValue: out.push_back(Value::UInt(v.uint_value())); break;
      case store::Value::kDoubleValue: out.push_back(Value::Double(v.double_value())); break;
      case store::Value::kText: out.push_back(Value::String(v.text())); break;
      case store::Value::kBytesValue: out.push_back(Value::Bytes(v.bytes_value())); break;
    }
  }
  return out;
}

}  // namespace

void RecordEncoder::Reset() {
  ids_.clear();
  keep_alive_.clear();
}

absl::Status RecordEncoder::Encode(const Transaction& txn, std::string* out) {
  const size_t out_size = out->size();
  store::Record record;
  store::Transaction* t = record.mutable_transaction();
  t->set_domain(txn.gtid.domain);
  t->set_server_id(txn.gtid.server_id);
  t->set_sequence(txn.gtid.sequence);
  t->set_source_uuid(txn.gtid.source_uuid);
  t->set_file_series(txn.gtid.file_series);
  t->set_origin_server_id(txn.origin_server_id);
  t->set_commit_time(txn.commit_time);
  t->set_ddl(txn.ddl);
  t->set_ddl_schema(txn.ddl_schema);
  t->set_statement(txn.statement);
  t->set_only_bookkeeping(txn.only_bookkeeping);
  t->set_sql_mode(txn.sql_mode);
  t->set_part(txn.part);
  t->set_more_parts(txn.more_parts);
  for (const RowChange& c : txn.changes) {
    auto [it, added] = ids_.try_emplace(c.table.get(), static_cast<uint32_t>(ids_.size() + 1));
    if (added) {
      keep_alive_.push_back(c.table);
      store::Record def;
      EncodeSchema(*c.table, it->second, def.mutable_schema());
      def.SerializeToString(&scratch_);
      AppendFrame(scratch_, out);
    }
    store::Change* x = t->add_changes();
    x->set_op(static_cast<uint32_t>(c.op));
    x->set_foreign_key_checks_off(c.foreign_key_checks_off);
    x->set_schema(it->second);
    if (c.op != RowOp::kInsert) EncodeRow(c.before, x->mutable_before());
    if (c.op != RowOp::kDelete) EncodeRow(c.after, x->mutable_after());
  }
  if (record.ByteSizeLong() > kMaxRecordBytes || !record.SerializeToString(&scratch_)) {
    out->resize(out_size);
    Reset();  // the schema definitions just appended are gone with it
    return absl::FailedPreconditionError(absl::StrCat(
        "transaction ", txn.gtid.ToString(), " of ", txn.changes.size(), " row changes is over the record "
        "store's limit of ", kMaxRecordBytes >> 20, " MiB per transaction; run this link without a "
        "store (retention_hours 0) to pass it"));
  }
  AppendFrame(scratch_, out);
  return absl::OkStatus();
}

absl::StatusOr<DecodedRecord> RecordDecoder::Decode(absl::string_view payload) {
  store::Record record;
  if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Corrupt("does not parse");
  }
  DecodedRecord out;
  switch (record.record_case()) {
    case store::Record::kSchema: {
      auto schema = DecodeSchema(record.schema());
      if (!schema.ok()) return schema.status();
      std::string key;
      store::Schema canonical = record.schema();
      canonical.set_id(0);
      canonical.SerializeToString(&key);
      auto [it, added] = by_content_.try_emplace(std::move(key), std::move(*schema));
      by_id_[record.schema().id()] = it->second;
      out.kind = DecodedRecord::Kind::kSchema;
      return out;
    }
    case store::Record::kFooter:
      out.kind = DecodedRecord::Kind::kFooter;
      out.end_position = record.footer().end_position();
      return out;
    case store::Record::kTransaction: break;
    default: return Corrupt("of no known kind");
  }
  const store::Transaction& t = record.transaction();
  Transaction txn;
  txn.gtid.domain = t.domain();
  txn.gtid.server_id = t.server_id();
  txn.gtid.sequence = t.sequence();
  txn.gtid.source_uuid = t.source_uuid();
  txn.gtid.file_series = t.file_series();
  txn.origin_server_id = t.origin_server_id();
  txn.commit_time = t.commit_time();
  txn.ddl = t.ddl();
  txn.ddl_schema = t.ddl_schema();
  txn.statement = t.statement();
  txn.only_bookkeeping = t.only_bookkeeping();
  txn.sql_mode = t.sql_mode();
  txn.part = t.part();
  txn.more_parts = t.more_parts();
  txn.changes.reserve(t.changes_size());
  for (const store::Change& c : t.changes()) {
    auto it = by_id_.find(c.schema());
    if (it == by_id_.end()) return Corrupt(absl::StrCat("refers to undefined schema ", c.schema()));
    if (c.op() > static_cast<uint32_t>(RowOp::kDelete)) return Corrupt(absl::StrCat("unknown row operation ", c.op()));
    RowChange change;
    change.op = static_cast<RowOp>(c.op());
    change.foreign_key_checks_off = c.foreign_key_checks_off();
    change.table = it->second;
    const size_t n = it->second->columns.size();
    if (change.op != RowOp::kInsert) {
      auto before = DecodeRow(c.before(), n);
      if (!before.ok()) return before.status();
      change.before = std::move(*before);
    }
    if (change.op != RowOp::kDelete) {
      auto after = DecodeRow(c.after(), n);
      if (!after.ok()) return after.status();
      change.after = std::move(*after);
    }
    txn.changes.push_back(std::move(change));
  }
  out.kind = DecodedRecord::Kind::kTransaction;
  out.transaction = std::move(txn);
  return out;
}

}  // namespace duosync
