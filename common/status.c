/* SPDX-License-Identifier: BSD-3-Clause */
#include <zcsign/status.h>

static const struct {
	const char *name;
	const char *text;
} status_table[ZCS_STATUS_MAX] = {
	[ZCS_OK] = {"ok", "ok"},
	[ZCS_ERR_BAD_MAGIC] = {"bad_magic", "bad frame magic"},
	[ZCS_ERR_BAD_VERSION] = {"bad_version", "unsupported protocol version"},
	[ZCS_ERR_BAD_TYPE] = {"bad_type", "unknown frame type"},
	[ZCS_ERR_BAD_LENGTH] = {"bad_length", "frame length does not match its type"},
	[ZCS_ERR_BAD_ALGO] = {"bad_algo", "unknown signature algorithm"},
	[ZCS_ERR_BAD_RESERVED] = {"bad_reserved", "reserved field is not zero"},
	[ZCS_ERR_UNKNOWN_ACCOUNT] = {"unknown_account", "no key for this account on this shard"},
	[ZCS_ERR_WRONG_SHARD] = {"wrong_shard", "shard id or shard count mismatch"},
	[ZCS_ERR_SIGN_FAILED] = {"sign_failed", "signing failed"},
	[ZCS_ERR_EXPIRED] = {"expired", "deadline passed before the request was signed"},
	[ZCS_ERR_SIGNER_DOWN] = {"signer_down", "signer connection is down"},
	[ZCS_ERR_MEASUREMENT] = {"measurement", "signer measurement does not match"},
	[ZCS_ERR_BAD_REQUEST] = {"bad_request", "request field out of range"},
	[ZCS_ERR_BUSY] = {"busy", "signer already serves another connection"},
	[ZCS_ERR_UNEXPECTED] = {"unexpected", "frame not valid in this connection state"},
	[ZCS_ERR_BAD_SEQUENCE] = {"bad_sequence", "reply for a sequence number not in flight"},
	[ZCS_ERR_SHUTDOWN] = {"shutdown", "shutting down"},
	[ZCS_ERR_INTERNAL] = {"internal", "internal error"},
	[ZCS_ERR_NO_ATTESTATION] = {"no_attestation", "signer has no attestation configured"},
	[ZCS_ERR_ATTESTATION] = {"attestation",
		"signer's attestation document failed verification"},
	[ZCS_ERR_SEALED] = {"sealed", "signer holds no keys yet: it has not been provisioned"},
	[ZCS_ERR_BUNDLE] = {"bundle", "key bundle refused: malformed, altered or not for this key"},
	[ZCS_ERR_STALE] = {"stale", "key bundle generation not newer than the signer's"},
	[ZCS_ERR_ENGINE_DOWN] = {"engine_down", "the engine died with the request in it"},
};

const char *
zcs_status_name(int st)
{
	if (st < 0 || st >= ZCS_STATUS_MAX)
		return "invalid_status";
	return status_table[st].name;
}

const char *
zcs_strerror(int st)
{
	if (st < 0 || st >= ZCS_STATUS_MAX)
		return "invalid status code";
	return status_table[st].text;
}
