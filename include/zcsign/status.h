/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zcsign status codes.
 *
 * One enum for every outcome a request, a frame or a connection can have. The
 * same numbers travel on the wire (16 bits, little-endian), sit in a completed
 * request, and name the counters in telemetry, so a value never changes meaning
 * once released: new codes are appended.
 */
#ifndef ZCSIGN_STATUS_H
#define ZCSIGN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum zcs_status {
	ZCS_OK = 0, /**< signed / done */
	ZCS_ERR_BAD_MAGIC = 1, /**< frame magic is not ZCS_WIRE_MAGIC */
	ZCS_ERR_BAD_VERSION = 2, /**< protocol version not spoken by this side */
	ZCS_ERR_BAD_TYPE = 3, /**< unknown frame type */
	ZCS_ERR_BAD_LENGTH = 4, /**< length field does not match the frame type */
	ZCS_ERR_BAD_ALGO = 5, /**< unknown signature algorithm */
	ZCS_ERR_BAD_RESERVED = 6, /**< a reserved field or bit is not zero */
	ZCS_ERR_UNKNOWN_ACCOUNT = 7, /**< no key for this account on this shard */
	ZCS_ERR_WRONG_SHARD = 8, /**< shard id or count differs from the signer's */
	ZCS_ERR_SIGN_FAILED = 9, /**< libsecp256k1 refused to sign */
	ZCS_ERR_EXPIRED = 10, /**< deadline passed before the request was sent */
	ZCS_ERR_SIGNER_DOWN = 11, /**< no usable signer connection for the shard */
	ZCS_ERR_MEASUREMENT = 12, /**< signer measurement differs from the expected one */
	ZCS_ERR_BAD_REQUEST = 13, /**< a request field is out of range */
	ZCS_ERR_BUSY = 14, /**< signer already serves another connection */
	ZCS_ERR_UNEXPECTED = 15, /**< frame type not valid in this state (e.g. SIGN before HELLO) */
	ZCS_ERR_BAD_SEQUENCE = 16, /**< reply names a sequence number not in flight */
	ZCS_ERR_SHUTDOWN = 17, /**< the engine or signer is stopping */
	ZCS_ERR_INTERNAL = 18, /**< a bug or resource failure; see the log */
	ZCS_ERR_NO_ATTESTATION = 19, /**< the signer has no attestation source configured */
	ZCS_ERR_ATTESTATION = 20, /**< the signer's attestation document failed verification */
	ZCS_ERR_SEALED = 21, /**< the signer holds no keys yet: not provisioned */
	ZCS_ERR_BUNDLE =
		22, /**< a key bundle was refused (malformed, altered, wrong key or session) */
	ZCS_ERR_STALE = 23, /**< a key bundle's generation is not newer than the signer's */
	ZCS_ERR_ENGINE_DOWN = 24, /**< (client) the engine process died with the request in it */
	ZCS_STATUS_MAX /**< number of codes; not a status */
};

/**
 * Short snake_case name of a status, e.g. "unknown_account" (telemetry keys, JSON).
 *
 * @param st
 *   Any value; out-of-range values give "invalid_status".
 * @return
 *   A static string, never NULL.
 */
const char *zcs_status_name(int st);

/**
 * One-line human description of a status, for log lines and CLI errors.
 *
 * @param st
 *   Any value; out-of-range values give "invalid status code".
 * @return
 *   A static string, never NULL.
 */
const char *zcs_strerror(int st);

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_STATUS_H */
