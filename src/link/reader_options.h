// How a link reads its source's binlog: as which replica, and which rows it decodes (those the
// router syncs, plus the opposite link's markers that loop prevention looks for).
#ifndef DUOSYNC_SRC_LINK_READER_OPTIONS_H_
#define DUOSYNC_SRC_LINK_READER_OPTIONS_H_

#include "config/resolved_config.h"
#include "route/router.h"
#include "source/binlog_reader.h"

namespace duosync {

// REQUIRES: `router` outlives the reader.
ReaderOptions ReaderOptionsFor(const LinkConfig& link, const Router* router);

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_READER_OPTIONS_H_
