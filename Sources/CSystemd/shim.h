#ifndef STEPWORKER_CSYSTEMD_SHIM_H
#define STEPWORKER_CSYSTEMD_SHIM_H
// Swift passes CODE_FILE/CODE_LINE/CODE_FUNC itself; keep sd_journal_sendv the plain function.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
