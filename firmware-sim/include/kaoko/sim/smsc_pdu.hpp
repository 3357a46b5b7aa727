// SMPP 3.4 PDUs as the simulated SMSC reads and writes them: plain C++ values, packed and unpacked by Debian's
// libsmpp34 (kept inside smsc_pdu.cpp, whose macros must not leak). Only the PDUs an SMSC meets from an ESME such as
// Kannel: the three binds, submit_sm, deliver_sm (and their responses), enquire_link, unbind, generic_nack.
//
// Thread safety: libsmpp34 reports errors through process-wide globals, so every Encode/Decode must run on one thread
// (kaoko-smsc runs all its IO on one io_context thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/contract/result.hpp"

namespace kaoko::sim::smsc {

namespace command {
inline constexpr uint32_t kGenericNack = 0x80000000;
inline constexpr uint32_t kBindReceiver = 0x00000001;
inline constexpr uint32_t kBindTransmitter = 0x00000002;
inline constexpr uint32_t kSubmitSm = 0x00000004;
inline constexpr uint32_t kSubmitSmResp = 0x80000004;
inline constexpr uint32_t kDeliverSm = 0x00000005;
inline constexpr uint32_t kDeliverSmResp = 0x80000005;
inline constexpr uint32_t kUnbind = 0x00000006;
inline constexpr uint32_t kUnbindResp = 0x80000006;
inline constexpr uint32_t kBindTransceiver = 0x00000009;
inline constexpr uint32_t kEnquireLink = 0x00000015;
inline constexpr uint32_t kEnquireLinkResp = 0x80000015;
inline constexpr uint32_t kResponseBit = 0x80000000;
}  // namespace command

namespace status {
inline constexpr uint32_t kOk = 0x00;
inline constexpr uint32_t kInvalidCommandLength = 0x02;
inline constexpr uint32_t kInvalidCommandId = 0x03;
inline constexpr uint32_t kInvalidBindStatus = 0x04;
inline constexpr uint32_t kAlreadyBound = 0x05;
inline constexpr uint32_t kSystemError = 0x08;
inline constexpr uint32_t kInvalidDestination = 0x0B;
inline constexpr uint32_t kBindFailed = 0x0D;
inline constexpr uint32_t kInvalidPassword = 0x0E;
inline constexpr uint32_t kInvalidSystemId = 0x0F;
inline constexpr uint32_t kSubmitFailed = 0x45;
inline constexpr uint32_t kThrottled = 0x58;
}  // namespace status

// SMPP's name of a command_status ("ESME_RSUBMITFAIL") or "0x…" for others. Thread-safe.
std::string StatusName(uint32_t status);
// "submit_sm", "bind_transceiver", … or "0x…". Thread-safe.
std::string CommandName(uint32_t command_id);

inline constexpr size_t kHeaderSize = 16;
// Larger PDUs are refused: a submit_sm is at most a few hundred octets, so a bigger length is a broken peer.
inline constexpr uint32_t kMaxPduSize = 64 * 1024;

struct Header {
  uint32_t length = 0;
  uint32_t command_id = 0;
  uint32_t status = 0;
  uint32_t sequence = 0;
};

// The header at the start of `octets` (at least 16 of them). Thread-safe.
Header ReadHeader(std::string_view octets);

struct Address {
  uint8_t ton = 0;  // 1 international, 2 national, 5 alphanumeric, 6 abbreviated (short code)
  uint8_t npi = 0;
  std::string digits;
};

struct Bind {
  uint32_t command_id = 0;  // which of the three binds
  std::string system_id;
  std::string password;
  std::string system_type;
  uint8_t interface_version = 0;
};

// The body of a submit_sm or a deliver_sm (the same fields in SMPP 3.4).
struct ShortMessage {
  std::string service_type;
  Address source;
  Address destination;
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority = 0;
  uint8_t registered_delivery = 0;
  uint8_t data_coding = 0;
  std::string short_message;  // octets, a user data header first when esm_class has 0x40
  // Optional parameters used by receipts and long messages.
  std::optional<std::string> receipted_message_id;
  std::optional<uint8_t> message_state;  // 2 delivered, 3 expired, 5 undeliverable, 8 rejected
  std::optional<std::string> payload;    // message_payload, used instead of short_message when present
};

// Decoders: a whole PDU (header included). The error names what libsmpp34 refused. Not thread-safe (see above).
Result<Bind> DecodeBind(std::string_view pdu);
Result<ShortMessage> DecodeSubmitSm(std::string_view pdu);
Result<ShortMessage> DecodeDeliverSm(std::string_view pdu);

// Encoders: a whole PDU ready to write. Throws std::runtime_error when a field is too long for SMPP (a bug of ours,
// never the peer's). Not thread-safe (see above).
std::string EncodeBindResp(uint32_t bind_command_id, uint32_t status, uint32_t sequence, std::string_view system_id);
std::string EncodeSubmitSmResp(uint32_t status, uint32_t sequence, std::string_view message_id);
std::string EncodeDeliverSmResp(uint32_t status, uint32_t sequence);
std::string EncodeSubmitSm(uint32_t sequence, const ShortMessage& message);
std::string EncodeDeliverSm(uint32_t sequence, const ShortMessage& message);
std::string EncodeBind(uint32_t sequence, const Bind& bind);
// A PDU that is only a header: enquire_link(_resp), unbind(_resp), generic_nack.
std::string EncodeHeaderOnly(uint32_t command_id, uint32_t status, uint32_t sequence);

}  // namespace kaoko::sim::smsc
