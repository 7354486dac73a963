#ifndef STEPWORKER_CSYSTEMD_SHIM_H
#define STEPWORKER_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
