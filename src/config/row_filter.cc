#include "config/row_filter.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "config/filter_compare.h"
#include "config/filter_oracle.h"

namespace duosync {
namespace {

enum class Tri { kFalse, kTrue, kUnknown };
Tri Not(Tri t) { return t == Tri::kUnknown ? t : (t == Tri::kTrue ? Tri::kFalse : Tri::kTrue); }
Tri FromBool(bool b) { return b ? Tri::kTrue : Tri::kFalse; }

using Literal = FilterLiteral;

}  // namespace

struct RowFilter::Node {
  enum class Type { kAnd, kOr, kNot, kCompare, kIsNull, kIn, kBetween, kLike } type;
  std::unique_ptr<Node> left, right;
  std::string column;
  int column_index = -1;
  std::string op;  // for kCompare
  bool negated = false;
  std::vector<Literal> literals;
  // After Bind(columns, oracle):
  ColumnSchema schema;
  std::vector<BoundLiteral> bound;

  // The value against literal `i`; the oracle decides what the typed comparison cannot.
  Order Compare(const Value& v, size_t i, FilterOracle* oracle, absl::Status* error) const {
    const Order o = CompareValue(schema, v, bound[i]);
    if (o != Order::kUndecided) return o;
    std::string text, charset;
    if (oracle == nullptr || !TextForServer(schema, v, &text, &charset)) {
      *error = absl::FailedPreconditionError(absl::StrCat(
          "row filter on column '", schema.name, "' (", schema.collation.empty() ? "no collation" : schema.collation,
          "): cannot compare this value with '", literals[i].text, "' without asking the server"));
      return Order::kUnknown;
    }
    auto c = oracle->Compare(text, charset, schema.collation, literals[i].text);
    if (!c.ok()) {
      *error = c.status();
      return Order::kUnknown;
    }
    return *c < 0 ? Order::kLess : *c > 0 ? Order::kGreater : Order::kEqual;
  }

  Tri Like(const Value& v, FilterOracle* oracle, absl::Status* error) const {
    const LikeResult r = LikeValue(schema, v, bound[0]);
    if (r != LikeResult::kUndecided) return FromBool(r == LikeResult::kYes);
    std::string text, charset;
    if (oracle == nullptr || !TextForServer(schema, v, &text, &charset)) {
      *error = absl::FailedPreconditionError(absl::StrCat(
          "row filter on column '", schema.name, "': cannot decide LIKE '", literals[0].text,
          "' without asking the server"));
      return Tri::kUnknown;
    }
    auto like = oracle->Like(text, charset, schema.collation, literals[0].text);
    if (!like.ok()) {
      *error = like.status();
      return Tri::kUnknown;
    }
    return FromBool(*like);
  }

  Tri Eval(const Row& row, FilterOracle* oracle, absl::Status* error) const {
    switch (type) {
      case Type::kAnd: {
        Tri a = left->Eval(row, oracle, error);
        if (a == Tri::kFalse) return a;
        Tri b = right->Eval(row, oracle, error);
        if (b == Tri::kFalse) return b;
        return (a == Tri::kTrue && b == Tri::kTrue) ? Tri::kTrue : Tri::kUnknown;
      }
      case Type::kOr: {
        Tri a = left->Eval(row, oracle, error);
        if (a == Tri::kTrue) return a;
        Tri b = right->Eval(row, oracle, error);
        if (b == Tri::kTrue) return b;
        return (a == Tri::kFalse && b == Tri::kFalse) ? Tri::kFalse : Tri::kUnknown;
      }
      case Type::kNot: return Not(left->Eval(row, oracle, error));
      default: break;
    }
    const Value& v = row[column_index];
    if (type == Type::kIsNull) return FromBool(v.is_null() != negated);
    if (v.is_null()) return Tri::kUnknown;
    Tri result = Tri::kFalse;
    switch (type) {
      case Type::kCompare: {
        const Order c = Compare(v, 0, oracle, error);
        if (c == Order::kUnknown) return Tri::kUnknown;
        const bool r = op == "=" ? c == Order::kEqual : op == "<" ? c == Order::kLess
                     : op == "<=" ? c != Order::kGreater : op == ">" ? c == Order::kGreater
                     : op == ">=" ? c != Order::kLess : c != Order::kEqual;
        return FromBool(r);
      }
      case Type::kIn:
        for (size_t i = 0; i < literals.size(); ++i) {
          const Order c = Compare(v, i, oracle, error);
          if (c == Order::kEqual) { result = Tri::kTrue; break; }
          if (c == Order::kUnknown) result = Tri::kUnknown;
        }
        break;
      case Type::kBetween: {
        const Order lo = Compare(v, 0, oracle, error);
        const Order hi = Compare(v, 1, oracle, error);
        if (lo == Order::kUnknown || hi == Order::kUnknown) return Tri::kUnknown;
        result = FromBool(lo != Order::kLess && hi != Order::kGreater);
        break;
      }
      case Type::kLike:
        result = Like(v, oracle, error);
        break;
      default: break;
    }
    return negated ? Not(result) : result;
  }

  void CollectColumns(std::vector<std::string>* out) const {
    if (left) left->CollectColumns(out);
    if (right) right->CollectColumns(out);
    if (!column.empty()) out->push_back(column);
  }

  absl::Status BindNames(const std::vector<std::string>& names) {
    if (left) { auto s = left->BindNames(names); if (!s.ok()) return s; }
    if (right) { auto s = right->BindNames(names); if (!s.ok()) return s; }
    if (column.empty()) return absl::OkStatus();
    for (size_t i = 0; i < names.size(); ++i) {
      if (absl::EqualsIgnoreCase(names[i], column)) {
        column_index = static_cast<int>(i);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat("row filter column '", column, "' is not in the table"));
  }

  absl::Status BindColumns(const std::vector<ColumnSchema>& columns) {
    if (left) { auto s = left->BindColumns(columns); if (!s.ok()) return s; }
    if (right) { auto s = right->BindColumns(columns); if (!s.ok()) return s; }
    if (column.empty()) return absl::OkStatus();
    column_index = -1;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (absl::EqualsIgnoreCase(columns[i].name, column)) column_index = static_cast<int>(i);
    }
    if (column_index < 0) {
      return absl::NotFoundError(absl::StrCat("row filter column '", column, "' is not in the table"));
    }
    schema = columns[column_index];
    bound.clear();
    if (type == Type::kIsNull) return absl::OkStatus();
    for (const Literal& l : literals) {
      auto b = BindLiteral(schema, l, type == Type::kLike);
      if (!b.ok()) return b.status();
      bound.push_back(*std::move(b));
    }
    return absl::OkStatus();
  }
};

namespace {

class Parser {
 public:
  explicit Parser(absl::string_view text) : t_(text) {}

  absl::StatusOr<std::unique_ptr<RowFilter::Node>> ParseAll() {
    auto node = ParseOr();
    if (!node.ok()) return node;
    Skip();
    if (pos_ != t_.size()) return Err("unexpected text");
    return node;
  }

 private:
  using NodeP = std::unique_ptr<RowFilter::Node>;
  using Type = RowFilter::Node::Type;

  absl::Status Err(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "row filter: ", what, " at position ", pos_ + 1, " ('", t_.substr(pos_, 20),
        "'); supported: column comparisons (= != <> < <= > >=), IS [NOT] NULL, [NOT] IN, "
        "[NOT] BETWEEN, [NOT] LIKE, joined by AND / OR / NOT and parentheses"));
  }

  void Skip() { while (pos_ < t_.size() && absl::ascii_isspace(t_[pos_])) ++pos_; }

  // Consumes a keyword (case-insensitive, whole word).
  bool Keyword(absl::string_view kw) {
    Skip();
    if (t_.size() - pos_ < kw.size() || !absl::EqualsIgnoreCase(t_.substr(pos_, kw.size()), kw)) {
      return false;
    }
    size_t end = pos_ + kw.size();
    if (end < t_.size() && (absl::ascii_isalnum(t_[end]) || t_[end] == '_')) return false;
    pos_ = end;
    return true;
  }

  bool Punct(absl::string_view p) {
    Skip();
    if (absl::StartsWith(t_.substr(pos_), p)) { pos_ += p.size(); return true; }
    return false;
  }

  absl::StatusOr<NodeP> Binary(Type type, NodeP l, NodeP r) {
    auto n = std::make_unique<RowFilter::Node>();
    n->type = type;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }

  absl::StatusOr<NodeP> ParseOr() {
    auto l = ParseAnd();
    if (!l.ok()) return l;
    while (Keyword("OR")) {
      auto r = ParseAnd();
      if (!r.ok()) return r;
      l = Binary(Type::kOr, std::move(*l), std::move(*r));
    }
    return l;
  }

  absl::StatusOr<NodeP> ParseAnd() {
    auto l = ParseNot();
    if (!l.ok()) return l;
    while (Keyword("AND")) {
      auto r = ParseNot();
      if (!r.ok()) return r;
      l = Binary(Type::kAnd, std::move(*l), std::move(*r));
    }
    return l;
  }

  absl::StatusOr<NodeP> ParseNot() {
    if (Keyword("NOT")) {
      if (++depth_ > kMaxDepth) return Err("NOT and parentheses nested too deeply");
      auto inner = ParseNot();
      --depth_;
      if (!inner.ok()) return inner;
      return Binary(Type::kNot, std::move(*inner), nullptr);
    }
    return ParsePredicate();
  }

  absl::StatusOr<std::string> Column() {
    Skip();
    if (pos_ < t_.size() && t_[pos_] == '`') {
      std::string name;
      for (++pos_; pos_ < t_.size(); ++pos_) {
        if (t_[pos_] == '`') {
          if (pos_ + 1 < t_.size() && t_[pos_ + 1] == '`') { name += '`'; ++pos_; continue; }
          ++pos_;
          if (name.empty()) return Err("empty `identifier`");  // no column has no name
          return name;
        }
        name += t_[pos_];
      }
      return Err("unterminated `identifier`");
    }
    size_t start = pos_;
    while (pos_ < t_.size() && (absl::ascii_isalnum(t_[pos_]) || t_[pos_] == '_' || t_[pos_] == '$')) {
      ++pos_;
    }
    if (start == pos_) return Err("expected a column name");
    std::string name(t_.substr(start, pos_ - start));
    for (absl::string_view kw : {"AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE", "BETWEEN"}) {
      if (absl::EqualsIgnoreCase(name, kw)) { pos_ = start; return Err("expected a column name"); }
    }
    if (absl::ascii_isdigit(name[0])) { pos_ = start; return Err("expected a column name"); }
    Skip();
    if (pos_ < t_.size() && t_[pos_] == '(') { pos_ = start; return Err("functions are not supported"); }
    return name;
  }

  absl::StatusOr<Literal> ParseLiteral() {
    Skip();
    Literal lit;
    if (pos_ < t_.size() && t_[pos_] == '\'') {
      for (++pos_; pos_ < t_.size(); ++pos_) {
        char c = t_[pos_];
        if (c == '\'') {
          if (pos_ + 1 < t_.size() && t_[pos_ + 1] == '\'') { lit.text += '\''; ++pos_; continue; }
          ++pos_;
          return lit;
        }
        if (c == '\\' && pos_ + 1 < t_.size()) {
          // The server's escapes; \% and \_ stay as written (they mean % and _ in a LIKE pattern).
          const char e = t_[++pos_];
          switch (e) {
            case '0': lit.text += '\0'; break;
            case 'b': lit.text += '\b'; break;
            case 'n': lit.text += '\n'; break;
            case 'r': lit.text += '\r'; break;
            case 't': lit.text += '\t'; break;
            case 'Z': lit.text += '\x1a'; break;
            case '%': case '_': lit.text += '\\'; lit.text += e; break;
            default: lit.text += e; break;
          }
          continue;
        }
        lit.text += c;
      }
      return Err("unterminated 'string'");
    }
    if (Keyword("TRUE")) { lit.kind = Literal::Kind::kInteger; lit.text = "1"; return lit; }
    if (Keyword("FALSE")) { lit.kind = Literal::Kind::kInteger; lit.text = "0"; return lit; }
    size_t start = pos_;
    if (pos_ < t_.size() && (t_[pos_] == '-' || t_[pos_] == '+')) ++pos_;
    bool dot = false, exponent = false;
    size_t digits = 0;
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (absl::ascii_isdigit(c)) {
        ++digits;
      } else if (c == '.' && !dot && !exponent) {
        dot = true;
      } else if ((c == 'e' || c == 'E') && !exponent && digits > 0) {
        exponent = true;
        if (pos_ + 1 < t_.size() && (t_[pos_ + 1] == '-' || t_[pos_ + 1] == '+')) ++pos_;
      } else {
        break;
      }
      ++pos_;
    }
    std::string num(t_.substr(start, pos_ - start));
    double ignored;
    if (digits == 0 || !absl::SimpleAtod(num, &ignored)) {
      pos_ = start;
      return Err("expected a number or a 'quoted string'");
    }
    if (num[0] == '+') num.erase(0, 1);
    lit.kind = exponent ? Literal::Kind::kDouble : dot ? Literal::Kind::kDecimal : Literal::Kind::kInteger;
    lit.text = num;
    return lit;
  }

  absl::StatusOr<NodeP> ParsePredicate() {
    if (Punct("(")) {
      if (++depth_ > kMaxDepth) return Err("NOT and parentheses nested too deeply");
      auto inner = ParseOr();
      --depth_;
      if (!inner.ok()) return inner;
      if (!Punct(")")) return Err("expected ')'");
      return inner;
    }
    auto col = Column();
    if (!col.ok()) return col.status();
    auto n = std::make_unique<RowFilter::Node>();
    n->column = *col;
    if (Keyword("IS")) {
      n->type = Type::kIsNull;
      n->negated = Keyword("NOT");
      if (!Keyword("NULL")) return Err("expected NULL after IS");
      return n;
    }
    n->negated = Keyword("NOT");
    if (Keyword("IN")) {
      n->type = Type::kIn;
      if (!Punct("(")) return Err("expected '(' after IN");
      do {
        auto lit = ParseLiteral();
        if (!lit.ok()) return lit.status();
        n->literals.push_back(*lit);
      } while (Punct(","));
      if (!Punct(")")) return Err("expected ')' to close IN");
      return n;
    }
    if (Keyword("BETWEEN")) {
      n->type = Type::kBetween;
      auto lo = ParseLiteral();
      if (!lo.ok()) return lo.status();
      if (!Keyword("AND")) return Err("expected AND in BETWEEN");
      auto hi = ParseLiteral();
      if (!hi.ok()) return hi.status();
      n->literals = {*lo, *hi};
      return n;
    }
    if (Keyword("LIKE")) {
      n->type = Type::kLike;
      auto lit = ParseLiteral();
      if (!lit.ok()) return lit.status();
      if (lit->kind != Literal::Kind::kString) return Err("LIKE needs a 'quoted pattern'");
      n->literals = {*lit};
      return n;
    }
    if (n->negated) return Err("expected IN, BETWEEN or LIKE after NOT");
    n->type = Type::kCompare;
    for (absl::string_view op : {"<=", ">=", "<>", "!=", "=", "<", ">"}) {
      if (Punct(op)) { n->op = std::string(op); break; }
    }
    if (n->op.empty()) return Err("expected a comparison operator");
    Skip();
    if (Keyword("NULL")) return Err("comparing with NULL is never true; use IS NULL");
    auto lit = ParseLiteral();
    if (!lit.ok()) return lit.status();
    n->literals = {*lit};
    return n;
  }

  absl::string_view t_;
  size_t pos_ = 0;
  // Parsing recurses once per NOT and '(': a config's filter must not be able to exhaust the stack.
  static constexpr int kMaxDepth = 100;
  int depth_ = 0;
};

}  // namespace

RowFilter::RowFilter(std::string text, std::unique_ptr<Node> root)
    : text_(std::move(text)), root_(std::move(root)) {}
RowFilter::~RowFilter() = default;

absl::StatusOr<std::unique_ptr<RowFilter>> RowFilter::Parse(absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("row filter is empty");
  }
  auto root = Parser(text).ParseAll();
  if (!root.ok()) return root.status();
  return std::unique_ptr<RowFilter>(new RowFilter(std::string(text), std::move(*root)));
}

std::vector<std::string> RowFilter::Columns() const {
  std::vector<std::string> out;
  root_->CollectColumns(&out);
  return out;
}

absl::Status RowFilter::Bind(const std::vector<std::string>& names) {
  oracle_ = nullptr;
  return root_->BindNames(names);
}

absl::Status RowFilter::Bind(const std::vector<ColumnSchema>& columns, FilterOracle* oracle) {
  oracle_ = oracle;
  return root_->BindColumns(columns);
}

absl::StatusOr<bool> RowFilter::Matches(const Row& row) const {
  absl::Status error;
  const bool pass = root_->Eval(row, oracle_, &error) == Tri::kTrue;
  if (!error.ok()) return error;
  return pass;
}

}  // namespace duosync
