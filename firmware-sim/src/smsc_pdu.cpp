// SMPP 3.4 PDUs packed and unpacked by libsmpp34 (smsc_pdu.hpp). libsmpp34's structs are fixed-size C arrays and a
// linked list of optional parameters; this file is the only one that sees them.
#include "kaoko/sim/smsc_pdu.hpp"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

// libsmpp34's headers depend on their order (params needs the structs) and have no extern "C" of their own.
// clang-format off
extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}
// clang-format on

namespace kaoko::sim::smsc {
namespace {

// The largest PDU we write: a deliver_sm with a 254-octet message and two small optional parameters.
constexpr int kEncodeBuffer = 2048;

template <size_t N>
void CopyIn(uint8_t (&field)[N], std::string_view value, const char* name) {
  if (value.size() + 1 > N)
    throw std::runtime_error(fmt::format("{} is {} octets, SMPP allows {}", name, value.size(), N - 1));
  std::memcpy(field, value.data(), value.size());
  field[value.size()] = 0;
}

template <size_t N>
std::string CopyOut(const uint8_t (&field)[N]) {
  return std::string(reinterpret_cast<const char*>(field), strnlen(reinterpret_cast<const char*>(field), N));
}

std::string Pack(uint32_t command_id, void* pdu) {
  std::vector<uint8_t> buffer(kEncodeBuffer);
  int length = 0;
  if (smpp34_pack(command_id, buffer.data(), static_cast<int>(buffer.size()), &length, pdu) != 0) {
    throw std::runtime_error(fmt::format("libsmpp34 cannot pack {}: {}", CommandName(command_id), smpp34_strerror));
  }
  return std::string(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(length));
}

template <class Pdu>
void SetHeader(Pdu& pdu, uint32_t command_id, uint32_t status, uint32_t sequence) {
  pdu.command_length = 0;  // smpp34_pack writes the real length
  pdu.command_id = command_id;
  pdu.command_status = status;
  pdu.sequence_number = sequence;
}

// Optional parameters for an outgoing message, owned here and linked into the libsmpp34 struct while packing.
struct OutgoingTlvs {
  std::vector<tlv_t> items;

  explicit OutgoingTlvs(const ShortMessage& m) {
    items.reserve(3);
    if (m.receipted_message_id) {
      tlv_t t{};
      t.tag = TLVID_receipted_message_id;
      if (m.receipted_message_id->size() + 1 > 65) throw std::runtime_error("receipted_message_id is too long");
      t.length = static_cast<uint16_t>(m.receipted_message_id->size() + 1);  // a C-octet string: its NUL counts
      std::memcpy(t.value.octet, m.receipted_message_id->data(), m.receipted_message_id->size());
      items.push_back(t);
    }
    if (m.message_state) {
      tlv_t t{};
      t.tag = TLVID_message_state;
      t.length = 1;
      t.value.val08 = *m.message_state;
      items.push_back(t);
    }
    if (m.payload) {
      tlv_t t{};
      t.tag = TLVID_message_payload;
      if (m.payload->size() > MAX_TLV_SIZE) throw std::runtime_error("message_payload is too long");
      t.length = static_cast<uint16_t>(m.payload->size());
      std::memcpy(t.value.octet, m.payload->data(), m.payload->size());
      items.push_back(t);
    }
    for (size_t i = 0; i + 1 < items.size(); ++i) items[i].next = &items[i + 1];
  }
  tlv_t* head() { return items.empty() ? nullptr : &items[0]; }
};

template <class Pdu>
std::string EncodeMessage(uint32_t command_id, uint32_t sequence, const ShortMessage& m) {
  auto pdu = std::make_unique<Pdu>();
  std::memset(pdu.get(), 0, sizeof(Pdu));
  SetHeader(*pdu, command_id, status::kOk, sequence);
  CopyIn(pdu->service_type, m.service_type, "service_type");
  pdu->source_addr_ton = m.source.ton;
  pdu->source_addr_npi = m.source.npi;
  CopyIn(pdu->source_addr, m.source.digits, "source_addr");
  pdu->dest_addr_ton = m.destination.ton;
  pdu->dest_addr_npi = m.destination.npi;
  CopyIn(pdu->destination_addr, m.destination.digits, "destination_addr");
  pdu->esm_class = m.esm_class;
  pdu->protocol_id = m.protocol_id;
  pdu->priority_flag = m.priority;
  pdu->registered_delivery = m.registered_delivery;
  pdu->data_coding = m.data_coding;
  if (m.short_message.size() > sizeof(pdu->short_message)) throw std::runtime_error("short_message is too long");
  pdu->sm_length = static_cast<uint8_t>(m.short_message.size());
  std::memcpy(pdu->short_message, m.short_message.data(), m.short_message.size());
  OutgoingTlvs tlvs(m);
  pdu->tlv = tlvs.head();
  return Pack(command_id, pdu.get());
}

template <class Pdu>
Result<ShortMessage> DecodeMessage(uint32_t command_id, std::string_view octets) {
  auto pdu = std::make_unique<Pdu>();
  std::memset(pdu.get(), 0, sizeof(Pdu));
  if (smpp34_unpack(command_id, pdu.get(), reinterpret_cast<const uint8_t*>(octets.data()),
                    static_cast<int>(octets.size())) != 0) {
    destroy_tlv(pdu->tlv);
    return MakeError("bad_pdu", fmt::format("{} refused by libsmpp34: {}", CommandName(command_id), smpp34_strerror));
  }
  ShortMessage m;
  m.service_type = CopyOut(pdu->service_type);
  m.source = {pdu->source_addr_ton, pdu->source_addr_npi, CopyOut(pdu->source_addr)};
  m.destination = {pdu->dest_addr_ton, pdu->dest_addr_npi, CopyOut(pdu->destination_addr)};
  m.esm_class = pdu->esm_class;
  m.protocol_id = pdu->protocol_id;
  m.priority = pdu->priority_flag;
  m.registered_delivery = pdu->registered_delivery;
  m.data_coding = pdu->data_coding;
  m.short_message.assign(reinterpret_cast<const char*>(pdu->short_message),
                         std::min<size_t>(pdu->sm_length, sizeof(pdu->short_message)));
  tlv_t* t = nullptr;
  smpp34_tlv_for_each(t, pdu->tlv) {
    const auto bytes = [&] { return std::string(reinterpret_cast<const char*>(t->value.octet), t->length); };
    if (t->tag == TLVID_receipted_message_id) m.receipted_message_id = CopyOut(t->value.octet);
    if (t->tag == TLVID_message_state) m.message_state = t->value.val08;
    if (t->tag == TLVID_message_payload) m.payload = bytes();
  }
  destroy_tlv(pdu->tlv);
  return m;
}

template <class Pdu>
Bind DecodeBindAs(const Pdu& pdu) {
  return Bind{pdu.command_id, CopyOut(pdu.system_id), CopyOut(pdu.password), CopyOut(pdu.system_type),
              pdu.interface_version};
}

template <class Pdu>
Result<Bind> UnpackBind(uint32_t command_id, std::string_view octets) {
  Pdu pdu{};
  if (smpp34_unpack(command_id, &pdu, reinterpret_cast<const uint8_t*>(octets.data()),
                    static_cast<int>(octets.size())) != 0) {
    return MakeError("bad_pdu", fmt::format("{} refused by libsmpp34: {}", CommandName(command_id), smpp34_strerror));
  }
  return DecodeBindAs(pdu);
}

template <class Pdu>
std::string PackBindResp(uint32_t command_id, uint32_t status, uint32_t sequence, std::string_view system_id) {
  Pdu pdu{};
  SetHeader(pdu, command_id, status, sequence);
  CopyIn(pdu.system_id, system_id, "system_id");
  pdu.tlv = nullptr;
  return Pack(command_id, &pdu);
}

template <class Pdu>
std::string PackBind(uint32_t command_id, uint32_t sequence, const Bind& b) {
  Pdu pdu{};
  SetHeader(pdu, command_id, status::kOk, sequence);
  CopyIn(pdu.system_id, b.system_id, "system_id");
  CopyIn(pdu.password, b.password, "password");
  CopyIn(pdu.system_type, b.system_type, "system_type");
  pdu.interface_version = b.interface_version;
  return Pack(command_id, &pdu);
}

}  // namespace

std::string StatusName(uint32_t s) {
  switch (s) {
    case status::kOk:
      return "ESME_ROK";
    case status::kInvalidCommandLength:
      return "ESME_RINVCMDLEN";
    case status::kInvalidCommandId:
      return "ESME_RINVCMDID";
    case status::kInvalidBindStatus:
      return "ESME_RINVBNDSTS";
    case status::kAlreadyBound:
      return "ESME_RALYBND";
    case status::kSystemError:
      return "ESME_RSYSERR";
    case status::kInvalidDestination:
      return "ESME_RINVDSTADR";
    case status::kBindFailed:
      return "ESME_RBINDFAIL";
    case status::kInvalidPassword:
      return "ESME_RINVPASWD";
    case status::kInvalidSystemId:
      return "ESME_RINVSYSID";
    case status::kSubmitFailed:
      return "ESME_RSUBMITFAIL";
    case status::kThrottled:
      return "ESME_RTHROTTLED";
    default:
      return fmt::format("0x{:08x}", s);
  }
}

std::string CommandName(uint32_t id) {
  switch (id) {
    case command::kGenericNack:
      return "generic_nack";
    case command::kBindReceiver:
      return "bind_receiver";
    case command::kBindReceiver | command::kResponseBit:
      return "bind_receiver_resp";
    case command::kBindTransmitter:
      return "bind_transmitter";
    case command::kBindTransmitter | command::kResponseBit:
      return "bind_transmitter_resp";
    case command::kBindTransceiver:
      return "bind_transceiver";
    case command::kBindTransceiver | command::kResponseBit:
      return "bind_transceiver_resp";
    case command::kSubmitSm:
      return "submit_sm";
    case command::kSubmitSmResp:
      return "submit_sm_resp";
    case command::kDeliverSm:
      return "deliver_sm";
    case command::kDeliverSmResp:
      return "deliver_sm_resp";
    case command::kUnbind:
      return "unbind";
    case command::kUnbindResp:
      return "unbind_resp";
    case command::kEnquireLink:
      return "enquire_link";
    case command::kEnquireLinkResp:
      return "enquire_link_resp";
    default:
      return fmt::format("0x{:08x}", id);
  }
}

Header ReadHeader(std::string_view o) {
  const auto u32 = [&](size_t at) {
    return (uint32_t{static_cast<unsigned char>(o[at])} << 24) |
           (uint32_t{static_cast<unsigned char>(o[at + 1])} << 16) |
           (uint32_t{static_cast<unsigned char>(o[at + 2])} << 8) | uint32_t{static_cast<unsigned char>(o[at + 3])};
  };
  return Header{u32(0), u32(4), u32(8), u32(12)};
}

Result<Bind> DecodeBind(std::string_view pdu) {
  switch (ReadHeader(pdu).command_id) {
    case command::kBindReceiver:
      return UnpackBind<bind_receiver_t>(command::kBindReceiver, pdu);
    case command::kBindTransmitter:
      return UnpackBind<bind_transmitter_t>(command::kBindTransmitter, pdu);
    case command::kBindTransceiver:
      return UnpackBind<bind_transceiver_t>(command::kBindTransceiver, pdu);
    default:
      return MakeError("not_a_bind", fmt::format("{} is not a bind", CommandName(ReadHeader(pdu).command_id)));
  }
}

Result<ShortMessage> DecodeSubmitSm(std::string_view pdu) {
  return DecodeMessage<submit_sm_t>(command::kSubmitSm, pdu);
}

Result<ShortMessage> DecodeDeliverSm(std::string_view pdu) {
  return DecodeMessage<deliver_sm_t>(command::kDeliverSm, pdu);
}

std::string EncodeBindResp(uint32_t bind_command_id, uint32_t s, uint32_t sequence, std::string_view system_id) {
  const uint32_t resp = bind_command_id | command::kResponseBit;
  switch (bind_command_id) {
    case command::kBindReceiver:
      return PackBindResp<bind_receiver_resp_t>(resp, s, sequence, system_id);
    case command::kBindTransmitter:
      return PackBindResp<bind_transmitter_resp_t>(resp, s, sequence, system_id);
    default:
      return PackBindResp<bind_transceiver_resp_t>(resp, s, sequence, system_id);
  }
}

std::string EncodeBind(uint32_t sequence, const Bind& bind) {
  switch (bind.command_id) {
    case command::kBindReceiver:
      return PackBind<bind_receiver_t>(bind.command_id, sequence, bind);
    case command::kBindTransmitter:
      return PackBind<bind_transmitter_t>(bind.command_id, sequence, bind);
    default:
      return PackBind<bind_transceiver_t>(command::kBindTransceiver, sequence, bind);
  }
}

std::string EncodeSubmitSmResp(uint32_t s, uint32_t sequence, std::string_view message_id) {
  submit_sm_resp_t pdu{};
  SetHeader(pdu, command::kSubmitSmResp, s, sequence);
  CopyIn(pdu.message_id, message_id, "message_id");
  return Pack(command::kSubmitSmResp, &pdu);
}

std::string EncodeDeliverSmResp(uint32_t s, uint32_t sequence) {
  deliver_sm_resp_t pdu{};
  SetHeader(pdu, command::kDeliverSmResp, s, sequence);
  return Pack(command::kDeliverSmResp, &pdu);
}

std::string EncodeSubmitSm(uint32_t sequence, const ShortMessage& message) {
  return EncodeMessage<submit_sm_t>(command::kSubmitSm, sequence, message);
}

std::string EncodeDeliverSm(uint32_t sequence, const ShortMessage& message) {
  return EncodeMessage<deliver_sm_t>(command::kDeliverSm, sequence, message);
}

std::string EncodeHeaderOnly(uint32_t command_id, uint32_t s, uint32_t sequence) {
  std::string out(kHeaderSize, '\0');
  const uint32_t fields[4] = {static_cast<uint32_t>(kHeaderSize), command_id, s, sequence};
  for (size_t i = 0; i < 4; ++i) {
    for (size_t b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((fields[i] >> (24 - 8 * b)) & 0xFF);
  }
  return out;
}

}  // namespace kaoko::sim::smsc
