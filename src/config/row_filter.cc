#include "config/row_filter.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

enum class Tri { kFalse, kTrue, kUnknown };
Tri Not(Tri t) { return t == Tri::kUnknown ? t : (t == Tri::kTrue ? Tri::kFalse : Tri::kTrue); }
Tri FromBool(bool b) { return b ? Tri::kTrue : Tri::kFalse; }

struct Literal {
  bool is_number = false;
  double number = 0;
  std::string text;
};

// -1, 0, 1; `ok` false when the value cannot be compared to the literal.
int Compare(const Value& v, const Literal& lit, bool* ok) {
  *ok = true;
  double num = 0;
  bool numeric = false;
  switch (v.kind) {
    case Value::Kind::kInt: num = static_cast<double>(v.i); numeric = true; break;
    case Value::Kind::kUInt: num = static_cast<double>(v.u); numeric = true; break;
    case Value::Kind::kDouble: num = v.d; numeric = true; break;
    default: break;
  }
  if (lit.is_number) {
    if (!numeric) {
      // DECIMAL and text that holds a number compare numerically, as MySQL would.
      numeric = absl::SimpleAtod(v.s, &num);
      if (!numeric) { *ok = false; return 0; }
    }
    return num < lit.number ? -1 : (num > lit.number ? 1 : 0);
  }
  if (numeric) {
    double l;
    if (!absl::SimpleAtod(lit.text, &l)) { *ok = false; return 0; }
    return num < l ? -1 : (num > l ? 1 : 0);
  }
  int c = v.s.compare(lit.text);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// SQL LIKE with % and _ and backslash escape, byte-wise.
bool Like(absl::string_view s, absl::string_view p) {
  size_t si = 0, pi = 0, star = std::string::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '\\' && pi + 1 < p.size() && p[pi + 1] == s[si]) {
      pi += 2; ++si;
    } else if (pi < p.size() && (p[pi] == '_' || (p[pi] != '%' && p[pi] != '\\' && p[pi] == s[si]))) {
      ++pi; ++si;
    } else if (pi < p.size() && p[pi] == '%') {
      star = pi++; mark = si;
    } else if (star != std::string::npos) {
      pi = star + 1; si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

}  // namespace

struct RowFilter::Node {
  enum class Type { kAnd, kOr, kNot, kCompare, kIsNull, kIn, kBetween, kLike } type;
  std::unique_ptr<Node> left, right;
  std::string column;
  int column_index = -1;
  std::string op;  // for kCompare
  bool negated = false;
  std::vector<Literal> literals;

  Tri Eval(const Row& row) const {
    switch (type) {
      case Type::kAnd: {
        Tri a = left->Eval(row);
        if (a == Tri::kFalse) return a;
        Tri b = right->Eval(row);
        if (b == Tri::kFalse) return b;
        return (a == Tri::kTrue && b == Tri::kTrue) ? Tri::kTrue : Tri::kUnknown;
      }
      case Type::kOr: {
        Tri a = left->Eval(row);
        if (a == Tri::kTrue) return a;
        Tri b = right->Eval(row);
        if (b == Tri::kTrue) return b;
        return (a == Tri::kFalse && b == Tri::kFalse) ? Tri::kFalse : Tri::kUnknown;
      }
      case Type::kNot: return Not(left->Eval(row));
      default: break;
    }
    const Value& v = row[column_index];
    if (type == Type::kIsNull) return FromBool(v.is_null() != negated);
    if (v.is_null()) return Tri::kUnknown;
    bool ok = true;
    Tri result = Tri::kFalse;
    switch (type) {
      case Type::kCompare: {
        int c = Compare(v, literals[0], &ok);
        if (!ok) return Tri::kUnknown;
        bool r = op == "=" ? c == 0 : op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0
               : op == ">=" ? c >= 0 : c != 0;
        return FromBool(r);
      }
      case Type::kIn:
        for (const Literal& l : literals) {
          int c = Compare(v, l, &ok);
          if (ok && c == 0) { result = Tri::kTrue; break; }
        }
        break;
      case Type::kBetween: {
        int lo = Compare(v, literals[0], &ok);
        bool ok2 = true;
        int hi = Compare(v, literals[1], &ok2);
        if (!ok || !ok2) return Tri::kUnknown;
        result = FromBool(lo >= 0 && hi <= 0);
        break;
      }
      case Type::kLike:
        result = FromBool(Like(v.kind == Value::Kind::kString || v.kind == Value::Kind::kBytes
                                   ? v.s : (v.kind == Value::Kind::kInt ? absl::StrCat(v.i)
                                            : v.kind == Value::Kind::kUInt ? absl::StrCat(v.u)
                                                                           : absl::StrCat(v.d)),
                               literals[0].text));
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

  absl::Status Bind(const std::vector<std::string>& names) {
    if (left) { auto s = left->Bind(names); if (!s.ok()) return s; }
    if (right) { auto s = right->Bind(names); if (!s.ok()) return s; }
    if (column.empty()) return absl::OkStatus();
    for (size_t i = 0; i < names.size(); ++i) {
      if (absl::EqualsIgnoreCase(names[i], column)) {
        column_index = static_cast<int>(i);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat("row filter column '", column, "' is not in the table"));
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
      auto inner = ParseNot();
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
        if (c == '\\' && pos_ + 1 < t_.size()) c = t_[++pos_];
        lit.text += c;
      }
      return Err("unterminated 'string'");
    }
    if (Keyword("TRUE")) { lit.is_number = true; lit.number = 1; return lit; }
    if (Keyword("FALSE")) { lit.is_number = true; lit.number = 0; return lit; }
    size_t start = pos_;
    if (pos_ < t_.size() && (t_[pos_] == '-' || t_[pos_] == '+')) ++pos_;
    while (pos_ < t_.size() && (absl::ascii_isdigit(t_[pos_]) || t_[pos_] == '.' ||
                                t_[pos_] == 'e' || t_[pos_] == 'E')) {
      ++pos_;
    }
    std::string num(t_.substr(start, pos_ - start));
    if (num.empty() || !absl::SimpleAtod(num, &lit.number)) {
      pos_ = start;
      return Err("expected a number or a 'quoted string'");
    }
    lit.is_number = true;
    lit.text = num;
    return lit;
  }

  absl::StatusOr<NodeP> ParsePredicate() {
    if (Punct("(")) {
      auto inner = ParseOr();
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
      if (lit->is_number) return Err("LIKE needs a 'quoted pattern'");
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

absl::Status RowFilter::Bind(const std::vector<std::string>& names) { return root_->Bind(names); }

bool RowFilter::Matches(const Row& row) const { return root_->Eval(row) == Tri::kTrue; }

}  // namespace duosync
