/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The zcsign rte_log type, shared by the engine and libzcsign:
 * --log-level=zcsign:debug turns on debug lines of both.
 */
#ifndef ZCS_LOG_H
#define ZCS_LOG_H

#include <rte_log.h>

extern int zcs_logtype;

#define ZCS_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, zcs_logtype, "zcsign: " fmt "\n", ##__VA_ARGS__)

#endif /* ZCS_LOG_H */
