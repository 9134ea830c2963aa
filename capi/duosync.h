/* duosync C ABI — the stable contract for host applications and language bindings.
 *
 * Conventions (every function):
 * - Functions that can fail return an int status code (DUO_OK = 0, else one of the DUO_* codes
 *   below, numbered as absl::StatusCode) and take `char** errptr` last. On failure *errptr receives
 *   a message the caller frees with duo_free(); on success it is left untouched. If *errptr is not
 *   NULL on entry it must be a message from an earlier call: it is freed before being replaced.
 * - Every string returned through an out-parameter is NUL-terminated, UTF-8, owned by the caller
 *   and freed with duo_free(). Input strings are borrowed for the duration of the call only.
 * - Configuration enters as JSON (proto/duosync/config.proto); reports and status leave as JSON.
 * - Handles are opaque; each has a create/destroy pair and destroy accepts NULL.
 * - No C++ exception, abort or assertion crosses this boundary. Passwords never appear in any
 *   returned text.
 * - Thread safety: a duo_project_t may be used from several threads at once; every function on it
 *   is internally serialized where needed. duo_project_destroy must not race with other calls on
 *   the same handle.
 * Nothing here is ever removed or changed in meaning; new behaviour comes as new functions.
 */
#ifndef DUOSYNC_C_H_
#define DUOSYNC_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DUO_BUILDING_LIBRARY)
#define DUO_EXPORT __attribute__((visibility("default")))
#else
#define DUO_EXPORT
#endif

#define DUO_VERSION_MAJOR 0
#define DUO_VERSION_MINOR 4
#define DUO_VERSION_PATCH 0
/* MAJOR * 1000000 + MINOR * 1000 + PATCH. 0.2.0 added pause/resume, events, conflicts, verify,
 * switchover and the log level to 0.1.0; 0.3.0 added duo_project_replay, 0.4.0 duo_project_listen. */
#define DUO_VERSION_NUMBER 4000

/* Status codes (the numbers of absl::StatusCode). */
#define DUO_OK 0
#define DUO_CANCELLED 1
#define DUO_UNKNOWN 2
#define DUO_INVALID_ARGUMENT 3      /* bad config or argument */
#define DUO_DEADLINE_EXCEEDED 4
#define DUO_NOT_FOUND 5
#define DUO_ALREADY_EXISTS 6
#define DUO_PERMISSION_DENIED 7
#define DUO_RESOURCE_EXHAUSTED 8
#define DUO_FAILED_PRECONDITION 9   /* a precheck failed, or the call does not fit the state */
#define DUO_ABORTED 10
#define DUO_OUT_OF_RANGE 11
#define DUO_UNIMPLEMENTED 12
#define DUO_INTERNAL 13
#define DUO_UNAVAILABLE 14          /* a server cannot be reached or went away */
#define DUO_DATA_LOSS 15
#define DUO_UNAUTHENTICATED 16

typedef struct duo_project_t duo_project_t;

/* Library version, e.g. "0.1.0". Static storage: do not free. */
DUO_EXPORT const char* duo_version(void);
/* DUO_VERSION_NUMBER of the library actually loaded (compare with the header's). */
DUO_EXPORT int duo_version_number(void);

/* Log levels for duo_set_log_level. Logs go to the process's stderr. */
#define DUO_LOG_INFO 0
#define DUO_LOG_WARNING 1 /* the default */
#define DUO_LOG_ERROR 2
#define DUO_LOG_NONE 3

/* Sets the least severe level logged (DUO_LOG_*). Passwords never appear in logs. If the host
 * already initialized glog itself, its own settings stay in charge of where logs go. */
DUO_EXPORT void duo_set_log_level(int level);

/* Frees any string or buffer this library returned. NULL is allowed. */
DUO_EXPORT void duo_free(void* ptr);

/* Validates a config without creating a project. *report_json (if report_json is not NULL)
 * receives {"ok": bool, "errors": [{"field","message","fix"}], "warnings": [...]} in every case
 * where the call itself ran. Returns DUO_OK when the config is valid, DUO_INVALID_ARGUMENT (with a
 * summary in *errptr) when it is not. */
DUO_EXPORT int duo_validate(const char* config_json, size_t config_len, char** report_json,
                            char** errptr);

/* Parses and validates `config_json` (config_len bytes) and creates a project in state "created".
 * On success *out receives the handle (destroy with duo_project_destroy). On an invalid config
 * returns DUO_INVALID_ARGUMENT naming every broken rule in *errptr, and *out is set to NULL. */
DUO_EXPORT int duo_project_create(const char* config_json, size_t config_len, duo_project_t** out,
                                  char** errptr);

/* Stops the project if it runs, waits for its threads and frees it. NULL is allowed. */
DUO_EXPORT void duo_project_destroy(duo_project_t* project);

/* Runs every precheck against the real endpoints (blocks while it connects). *report_json receives
 * {"ok": bool, "checks": [{"name","endpoint","link","status":"PASSED|WARNING|FAILED","message",
 * "fix","objects":[...]}]}. Returns DUO_OK when no check failed, DUO_FAILED_PRECONDITION when some
 * did (the report is filled in both cases). */
DUO_EXPORT int duo_project_precheck(duo_project_t* project, char** report_json, char** errptr);

/* Starts the project's links in background threads. Returns once each link has durably recorded
 * where it starts. DUO_FAILED_PRECONDITION if it already runs. It does not run the prechecks: call
 * duo_project_precheck first (the CLI's `run` does); a link that meets a problem later stops with
 * its error in the status. */
DUO_EXPORT int duo_project_start(duo_project_t* project, char** errptr);

/* Stops all links and waits for their threads. Idempotent. */
DUO_EXPORT int duo_project_stop(duo_project_t* project, char** errptr);

/* Waits up to timeout_ms for the links to end by themselves (a failure, or a finished data
 * migration). DUO_DEADLINE_EXCEEDED when they still run; else the first link's error, or DUO_OK
 * (also after duo_project_stop, or when the project never started). */
DUO_EXPORT int duo_project_wait(duo_project_t* project, int64_t timeout_ms, char** errptr);

/* Status JSON: {"name","scenario","state","endpoint_a","endpoint_b","links":[{"name","stage",
 * "source","destination","position","lag_seconds","rows_per_second","transactions_applied",
 * "rows_applied","last_error","filtered_tables"}]}. Passwords are masked. 64-bit counters
 * (transactions_applied, rows_applied) are JSON strings, as protobuf's JSON mapping writes them. */
DUO_EXPORT int duo_project_status(duo_project_t* project, char** status_json, char** errptr);

/* Conflicts met by an active-active project's links, as each destination keeps them (they outlast
 * the process; the latest 1000 per link, newest first):
 * {"forward": {"total": N, "conflicts": [{"link","table","key","operation","reason",
 * "incoming_before","incoming_after","destination","colliding","policy","outcome","time"}]},
 * "reverse": {...}}. A link whose destination cannot be reached shows the conflicts this process
 * met, with an "error" saying why. */
DUO_EXPORT int duo_project_conflicts(duo_project_t* project, char** conflicts_json, char** errptr);

/* Swaps the roles of a running one-way (DATA_MIGRATION) project: if make_source_read_only is
 * non-zero, sets A read-only first; waits up to timeout_ms until the forward link has applied
 * everything A wrote; stops it; starts the reverse link B -> A from B's current position.
 * DUO_FAILED_PRECONDITION for an active-active or stopped project; DUO_DEADLINE_EXCEEDED when the
 * forward link did not catch up in time (it keeps running). */
DUO_EXPORT int duo_project_switchover(duo_project_t* project, int make_source_read_only,
                                      int64_t timeout_ms, char** errptr);

/* Full verification of the forward link's tables (A against B), while both may be live: per-chunk
 * checksums inside each database, drilled down to rows, differing rows re-checked before they are
 * reported. *report_json receives {"equal","rows_checked","seconds","repaired","tables":[{"table",
 * "rows_checked","chunks","missing":[keys],"extra":[keys],"different":[keys]}],"repair":[SQL]}.
 * With repair non-zero the repair statements are applied to B. Returns DUO_OK when the sides are
 * equal, DUO_DATA_LOSS when rows differ (the report is filled in both cases). */
DUO_EXPORT int duo_project_verify(duo_project_t* project, int repair, char** report_json,
                                  char** errptr);

/* Events (duo_event_fn's `event`). */
#define DUO_EVENT_STAGE 1    /* {"link","stage"}: a link changed stage */
#define DUO_EVENT_PROGRESS 2 /* the status JSON (see duo_project_status), every second while running */
#define DUO_EVENT_CONFLICT 3 /* a conflict record (see duo_project_conflicts) */
#define DUO_EVENT_ERROR 4    /* {"link","code","error"}: a link stopped with an error */
#define DUO_EVENT_VERIFY 5   /* {"tables_done","tables_total","rows_checked"}: verification progress */

/* An event callback. `json` is borrowed for the duration of the call. Called from a thread of the
 * library (one per project, never inside its locks; events arrive in order). A non-zero return
 * unsubscribes: no further events. */
typedef int (*duo_event_fn)(int event, const char* json, void* user_data);

/* Sets (or with fn NULL, clears) the project's event callback; replaces an earlier one. A call of
 * the earlier callback may still be running when this returns: keep its user_data alive until
 * duo_project_destroy. No call is made after duo_project_destroy returns. The callback may call the other duo_project_* functions
 * (status, stop, ...) but must not destroy the project it is called for. */
DUO_EXPORT int duo_project_set_event_callback(duo_project_t* project, duo_event_fn fn,
                                              void* user_data, char** errptr);

/* Pauses a running project's link ("forward" / "reverse"; NULL = every link): it stops after its
 * current work, stage "paused". duo_project_resume restarts it from its checkpoint. DUO_NOT_FOUND
 * for an unknown link, DUO_FAILED_PRECONDITION when the project does not run. */
DUO_EXPORT int duo_project_pause(duo_project_t* project, const char* link, char** errptr);
DUO_EXPORT int duo_project_resume(duo_project_t* project, const char* link, char** errptr);

/* Replays a link ("forward" / "reverse") from its record store (the link's
 * options.retention_hours > 0 and the project's data_dir): rewinds it to `from` — a source commit
 * time ("2026-11-24 10:00:00" in UTC, RFC 3339, or "@<Unix seconds>") or a GTID position
 * ("0-1-100") — and applies every stored transaction after it again, idempotently up to where the
 * link had got. A running link is stopped and restarted; a stopped project's next start replays.
 * On DUO_OK, *position (if position is not NULL) receives the GTID position rewound to; free it
 * with duo_free. DUO_OUT_OF_RANGE when the store no longer holds `from` (the error names the range
 * it holds); DUO_FAILED_PRECONDITION when the link keeps no records or has not reached incremental
 * migration, or its store is open in another process; DUO_INVALID_ARGUMENT for a `from` that is
 * neither a time nor a position; DUO_NOT_FOUND for an unknown link. (Since 0.3.0.) */
DUO_EXPORT int duo_project_replay(duo_project_t* project, const char* link, const char* from,
                                  char** position, char** errptr);

/* Serves the project's metrics and status over HTTP at `address` ("HOST:PORT", ":PORT" for
 * 127.0.0.1; port 0 takes a free one): GET /metrics in Prometheus' text format (lag, applied
 * transactions and rows, conflicts, reconnects, stage, ... per link), GET /status as JSON. No
 * secret is ever served. A second call moves the listener; `address` NULL or "" stops it. On
 * DUO_OK, *port (if not NULL) receives the port bound. DUO_INVALID_ARGUMENT for a malformed
 * address, DUO_UNAVAILABLE when it cannot bind. (Since 0.4.0.) */
DUO_EXPORT int duo_project_listen(duo_project_t* project, const char* address, int* port, char** errptr);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DUOSYNC_C_H_ */
