#define _POSIX_C_SOURCE 199309L
/* Plain C99 test of the C ABI (capi/duosync.h). Needs two servers: run through with_servers.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duosync.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    ++checks;                                                         \
    if (!(cond)) {                                                    \
      ++failures;                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                 \
  } while (0)

static const char* env(const char* name) {
  const char* v = getenv(name);
  if (v == NULL) {
    fprintf(stderr, "missing %s: run through tests/with_servers.sh\n", name);
    exit(2);
  }
  return v;
}

static char* project_json(void) {
  static const char* fmt =
      "{\"name\": \"capi\", \"scenario\": \"ACTIVE_ACTIVE\", \"endpoints\": {"
      "\"a\": {\"region\": \"r1\", \"host\": \"127.0.0.1\", \"port\": %s, \"user\": \"%s\", \"password\": \"%s\"},"
      "\"b\": {\"region\": \"r2\", \"host\": \"127.0.0.1\", \"port\": %s, \"user\": \"%s\", \"password\": \"%s\"}},"
      "\"forward\": {\"migration_types\": [\"INCREMENTAL\"], \"objects\": {\"import\": \"capi.t\"}},"
      "\"reverse\": {\"migration_types\": [\"INCREMENTAL\"]}}";
  size_t n = strlen(fmt) + 256;
  char* out = malloc(n);
  snprintf(out, n, fmt, env("DUO_TEST_PORT_A"), env("DUO_TEST_USER"), env("DUO_TEST_PASSWORD"),
           env("DUO_TEST_PORT_B"), env("DUO_TEST_USER"), env("DUO_TEST_PASSWORD"));
  return out;
}

static void test_version(void) {
  duo_set_log_level(DUO_LOG_ERROR);
  CHECK(duo_version_number() == DUO_VERSION_NUMBER);
  CHECK(strcmp(duo_version(), "0.4.0") == 0);
  duo_free(NULL);
  duo_project_destroy(NULL);
}

static void test_invalid_config(void) {
  char* err = NULL;
  char* report = NULL;
  duo_project_t* p = (duo_project_t*)1;
  const char* bad = "{\"name\": \"\", \"colour\": 1}";
  CHECK(duo_project_create(bad, strlen(bad), &p, &err) == DUO_INVALID_ARGUMENT);
  CHECK(p == NULL);
  CHECK(err != NULL && strstr(err, "colour") != NULL);
  /* A second error replaces (and frees) the first message. */
  CHECK(duo_validate("{}", 2, &report, &err) == DUO_INVALID_ARGUMENT);
  CHECK(report != NULL && strstr(report, "\"ok\":false") != NULL);
  CHECK(strstr(report, "\"field\":\"endpoints.a\"") != NULL);
  duo_free(report);
  duo_free(err);
  err = NULL;
  CHECK(duo_project_start(NULL, &err) == DUO_INVALID_ARGUMENT);
  CHECK(err != NULL);
  duo_free(err);
}

struct events {
  int stage, progress, verify, other;
};

static int on_event(int event, const char* json, void* user_data) {
  struct events* e = (struct events*)user_data;
  if (event == DUO_EVENT_STAGE && strstr(json, "\"stage\"") != NULL) ++e->stage;
  else if (event == DUO_EVENT_PROGRESS && strstr(json, "\"links\"") != NULL) ++e->progress;
  else if (event == DUO_EVENT_VERIFY && strstr(json, "\"rows_checked\"") != NULL) ++e->verify;
  else ++e->other;
  return 0;
}

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static void test_project_lifecycle(void) {
  struct events events = {0, 0, 0, 0};
  char* json = project_json();
  char* err = NULL;
  char* report = NULL;
  char* status = NULL;
  duo_project_t* p = NULL;
  int rc = duo_project_create(json, strlen(json), &p, &err);
  CHECK(rc == DUO_OK);
  if (rc != DUO_OK) {
    fprintf(stderr, "create: %s\n", err);
    duo_free(err);
    free(json);
    return;
  }
  rc = duo_project_precheck(p, &report, &err);
  CHECK(rc == DUO_OK);
  CHECK(report != NULL && strstr(report, "\"name\":\"binlog_format\"") != NULL);
  if (rc != DUO_OK) fprintf(stderr, "precheck: %s\n%s\n", err, report);
  duo_free(report);

  CHECK(duo_project_set_event_callback(p, on_event, &events, &err) == DUO_OK);
  rc = duo_project_start(p, &err);
  CHECK(rc == DUO_OK);
  if (rc != DUO_OK) fprintf(stderr, "start: %s\n", err);
  CHECK(duo_project_start(p, &err) == DUO_FAILED_PRECONDITION);
  CHECK(duo_project_status(p, &status, &err) == DUO_OK);
  CHECK(status != NULL && strstr(status, "\"state\":\"running\"") != NULL);
  CHECK(status != NULL && strstr(status, "\"name\":\"reverse\"") != NULL);
  CHECK(status != NULL && strstr(status, env("DUO_TEST_PASSWORD")) == NULL);
  duo_free(status);
  CHECK(duo_project_wait(p, 100, &err) == DUO_DEADLINE_EXCEEDED);
  CHECK(duo_project_pause(p, "reverse", &err) == DUO_OK);
  CHECK(duo_project_pause(p, "sideways", &err) == DUO_NOT_FOUND);
  CHECK(duo_project_status(p, &status, &err) == DUO_OK);
  CHECK(status != NULL && strstr(status, "\"stage\":\"paused\"") != NULL);
  duo_free(status);
  CHECK(duo_project_resume(p, NULL, &err) == DUO_OK);
  sleep_ms(1500);
  CHECK(events.stage >= 2); /* both links reached "incremental" */
  CHECK(events.progress >= 1);
  CHECK(events.other == 0);
  /* Verification: capi.t is equal (empty) on both sides; progress arrives as events. */
  rc = duo_project_verify(p, 0, &report, &err);
  CHECK(rc == DUO_OK);
  CHECK(report != NULL && strstr(report, "\"equal\":true") != NULL);
  duo_free(report);
  sleep_ms(300);
  CHECK(events.verify >= 1);
  /* The status listener: a free port, a bad address refused; destroy stops it. */
  {
    int port = 0;
    CHECK(duo_project_listen(p, "127.0.0.1:0", &port, &err) == DUO_OK);
    CHECK(port > 0);
    CHECK(duo_project_listen(p, "no port", &port, &err) == DUO_INVALID_ARGUMENT);
    CHECK(err != NULL && strstr(err, "HOST:PORT") != NULL);
    CHECK(duo_project_listen(NULL, ":0", NULL, &err) == DUO_INVALID_ARGUMENT);
    CHECK(duo_project_listen(p, ":0", NULL, &err) == DUO_OK);
  }
  CHECK(duo_project_stop(p, &err) == DUO_OK);
  CHECK(duo_project_stop(p, &err) == DUO_OK);
  duo_free(err);
  duo_project_destroy(p);
  free(json);
}

int main(void) {
  test_version();
  test_invalid_config();
  test_project_lifecycle();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
