/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zcsign's DPDK telemetry commands.
 *
 * The engine serves its state through DPDK telemetry (the EAL's
 * dpdk_telemetry.v2 socket in its runtime directory), readable with
 * `dpdk-telemetry.py -f <file-prefix>` or any client of that socket:
 *
 * | command                  | reply                                              |
 * |--------------------------|----------------------------------------------------|
 * | /zcsign/info             | version, shards, lcores, poll mode, uptime, and per |
 * |                          | shard: lcore, isolation of its CPUs, nonce mode    |
 * | /zcsign/shards           | array of shard numbers                             |
 * | /zcsign/shard,N          | state, endpoint, measurement, counters, ring depth |
 * | /zcsign/latency,N        | end-to-end (submit -> completion) percentiles, ns  |
 * | /zcsign/signer,N         | signer round trip and service time percentiles, ns |
 * | /zcsign/jitter,LCORE     | loop-gap percentiles, hiccups, busy/idle cycles    |
 *
 * Percentile dicts hold count, min, mean, p50, p90, p99, p99_9, p99_99, max
 * (ns, since the engine started; the histograms are log-linear, so every
 * percentile is within 1/128 of the exact one, min and max are exact). A bad
 * or missing parameter, or a shard or lcore the engine does not have, answers
 * -EINVAL (the telemetry client sees null). With no engine running every
 * command answers -ENODEV. docs/TELEMETRY.md has an example reply of each.
 */
#ifndef ZCSIGN_TELEMETRY_H
#define ZCSIGN_TELEMETRY_H

#ifdef __cplusplus
extern "C" {
#endif

#define ZCS_TEL_CMD_INFO "/zcsign/info" /**< no parameter */
#define ZCS_TEL_CMD_SHARDS "/zcsign/shards" /**< no parameter */
#define ZCS_TEL_CMD_SHARD "/zcsign/shard" /**< parameter: shard number */
#define ZCS_TEL_CMD_LATENCY "/zcsign/latency" /**< parameter: shard number */
#define ZCS_TEL_CMD_SIGNER "/zcsign/signer" /**< parameter: shard number */
#define ZCS_TEL_CMD_JITTER "/zcsign/jitter" /**< parameter: worker lcore id */

/** Hiccups listed by /zcsign/jitter (the most recent ones, oldest first). */
#define ZCS_TEL_HICCUPS_SHOWN 16

/**
 * Register every /zcsign/ command with DPDK telemetry. zcs_engine_start()
 * calls it; calling it again is a no-op. Needs rte_eal_init() done (and
 * telemetry not disabled with --no-telemetry for the socket to exist; the
 * handlers are registered either way).
 *
 * @return
 *   0, or the first error of rte_telemetry_register_cmd(): -EINVAL (bad
 *   command name or help text), -ENOMEM (no room for more commands).
 */
int zcs_telemetry_init(void);

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_TELEMETRY_H */
