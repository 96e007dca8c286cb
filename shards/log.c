/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The zcsign log type. Registered from a constructor of libzcsign, so the
 * engine and every gateway linking the library share one type and
 * --log-level=zcsign:debug (parsed by rte_eal_init, after constructors ran)
 * applies to both.
 */
#include <rte_log.h>

#include "log.h"

RTE_LOG_REGISTER(zcs_logtype, zcsign, INFO);
