// A table by name: the unit of object selection, routing and catalog queries.
#ifndef DUOSYNC_SRC_BASE_TABLE_REF_H_
#define DUOSYNC_SRC_BASE_TABLE_REF_H_

#include <string>

namespace duosync {

struct TableRef {
  std::string schema;
  std::string table;
  std::string ToString() const { return schema + "." + table; }
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_TABLE_REF_H_
