// stencil::TextStreamDecoder: token ids -> text for streaming output, never splitting a UTF-8
// character across two pushes. Only the tail of the buffered bytes can be an incomplete sequence:
// a lead byte in the last three bytes that announces more bytes than follow it (all of them
// continuation bytes). Those are held back; everything else, invalid bytes included, goes out.
#include "grammar/utf8.h"
#include "runtime/tokenizer_impl.h"

namespace stencil {

TextStreamDecoder::TextStreamDecoder(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(&tokenizer), options_(options) {}

std::string_view TextStreamDecoder::push(int32_t id) {
  std::string_view bytes = tokenizer_->token_bytes(id, options_.render_special);
  if (first_ && !bytes.empty()) {
    first_ = false;
    if (options_.strip_space_prefix && tokenizer_->impl().adds_space_prefix() && bytes[0] == ' ') {
      bytes.remove_prefix(1);
    }
  }
  pending_.append(bytes);
  size_t cut = pending_.size();
  for (size_t k = 1; k <= 3 && k <= pending_.size(); ++k) {
    const auto c = static_cast<unsigned char>(pending_[pending_.size() - k]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking for the lead
    if (c >= 0xC0 && c < 0xF8 && runtime::detail::utf8_len_from_lead(c) > k) cut = pending_.size() - k;
    break;
  }
  out_.assign(pending_, 0, cut);
  pending_.erase(0, cut);
  return out_;
}

std::string TextStreamDecoder::flush() {
  std::string rest;
  rest.swap(pending_);
  first_ = true;
  return rest;
}

}  // namespace stencil
