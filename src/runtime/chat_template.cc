// stencil::ChatTemplate: recognises chat-template families by their marker text and renders
// messages as those templates do (see include/stencil/runtime/chat.h). The expected strings in
// tests/runtime/chat_template_test.cc were produced by running the real templates with Jinja2.
#include "stencil/runtime/chat.h"

#include <string>

#include "stencil/errors.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Jinja's `trim`: strips leading and trailing whitespace.
std::string_view trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// A default system prompt written literally into a ChatML template, as in SmolLM2's
// '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n'.
// The "\n" after "system" is a real newline or the two characters '\' 'n' (inside a Jinja string
// literal). A prompt containing quotes or braces is Jinja code, not a literal: none then.
std::string chatml_default_system(std::string_view t) {
  constexpr std::string_view kOpen = "<|im_start|>system";
  for (size_t pos = t.find(kOpen); pos != std::string_view::npos; pos = t.find(kOpen, pos + 1)) {
    size_t b = pos + kOpen.size();
    if (t.substr(b, 1) == "\n") {
      b += 1;
    } else if (t.substr(b, 2) == "\\n") {
      b += 2;
    } else {
      continue;
    }
    const size_t e = t.find("<|im_end|>", b);
    if (e == std::string_view::npos) continue;
    const std::string_view body = t.substr(b, e - b);
    if (body.empty() || body.find_first_of("'\"{}+") != std::string_view::npos) continue;
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {  // undo Jinja string escapes of newlines
      if (body[i] == '\\' && i + 1 < body.size() && body[i + 1] == 'n') {
        out.push_back('\n');
        ++i;
      } else {
        out.push_back(body[i]);
      }
    }
    return out;
  }
  return {};
}

std::string capitalised(std::string_view role) {
  std::string r(role);
  if (!r.empty() && r[0] >= 'a' && r[0] <= 'z') r[0] = static_cast<char>(r[0] - 'a' + 'A');
  return r;
}

}  // namespace

std::string_view chat_format_name(ChatFormat format) noexcept {
  switch (format) {
    case ChatFormat::kRaw: return "raw";
    case ChatFormat::kPlain: return "plain";
    case ChatFormat::kChatML: return "chatml";
    case ChatFormat::kLlama3: return "llama3";
    case ChatFormat::kMistral: return "mistral";
    case ChatFormat::kGemma: return "gemma";
    case ChatFormat::kDeepSeek: return "deepseek";
  }
  return "plain";
}

ChatTemplate ChatTemplate::detect(std::string_view t, std::string_view bos_token, std::string_view eos_token) {
  ChatTemplate c;
  c.bos_ = std::string(bos_token);
  c.eos_ = std::string(eos_token);
  if (contains(t, "<|im_start|>")) {
    c.format_ = ChatFormat::kChatML;
    c.default_system_ = chatml_default_system(t);
  } else if (contains(t, "<|start_header_id|>")) {
    c.format_ = ChatFormat::kLlama3;
  } else if (contains(t, "<start_of_turn>")) {
    c.format_ = ChatFormat::kGemma;
  } else if (contains(t, "<\xEF\xBD\x9CUser\xEF\xBD\x9C>")) {
    c.format_ = ChatFormat::kDeepSeek;
  } else if (contains(t, "[INST]")) {
    c.format_ = ChatFormat::kMistral;
    c.llama2_sys_ = contains(t, "<<SYS>>");
  } else {
    c.format_ = ChatFormat::kPlain;
    c.warning_ = t.empty() ? "the model has no chat template; using a plain \"User: ... Assistant:\" prompt"
                           : "unrecognised chat template; using a plain \"User: ... Assistant:\" prompt";
  }
  return c;
}

ChatTemplate ChatTemplate::for_tokenizer(const Tokenizer& tok) {
  const std::string bos(tok.bos_id() >= 0 ? tok.token_text(tok.bos_id()) : std::string_view());
  const std::string eos(tok.eos_ids().empty() ? std::string_view() : tok.token_text(tok.eos_ids()[0]));
  ChatTemplate c = detect(tok.chat_template(), bos, eos);
  if (!tok.chat_template().empty() || c.format_ != ChatFormat::kPlain) return c;
  static constexpr std::pair<std::string_view, std::string_view> kMarkers[] = {
      {"<|im_start|>", "chatml"}, {"<|start_header_id|>", "llama3"}, {"<start_of_turn>", "gemma"}};
  for (const auto& [marker, name] : kMarkers) {
    if (tok.find_token(marker) < 0) continue;
    ChatTemplate guessed = named(name, bos, eos);
    guessed.warning_ = "the model has no chat template; guessed the " + std::string(name) + " format from its " +
                       std::string(marker) + " token";
    return guessed;
  }
  return c;
}

ChatTemplate ChatTemplate::named(std::string_view name, std::string_view bos_token, std::string_view eos_token) {
  ChatTemplate c;
  c.bos_ = std::string(bos_token);
  c.eos_ = std::string(eos_token);
  if (name == "raw") {
    c.format_ = ChatFormat::kRaw;
  } else if (name == "plain") {
    c.format_ = ChatFormat::kPlain;
  } else if (name == "chatml") {
    c.format_ = ChatFormat::kChatML;
  } else if (name == "llama3") {
    c.format_ = ChatFormat::kLlama3;
  } else if (name == "mistral" || name == "llama2") {
    c.format_ = ChatFormat::kMistral;
    c.llama2_sys_ = name == "llama2";
  } else if (name == "gemma") {
    c.format_ = ChatFormat::kGemma;
  } else if (name == "deepseek") {
    c.format_ = ChatFormat::kDeepSeek;
  } else {
    throw ArgumentError("unknown chat template name \"" + std::string(name) +
                        "\" (raw, plain, chatml, llama3, mistral, llama2, gemma, deepseek)");
  }
  return c;
}

bool ChatTemplate::renders_bos() const noexcept {
  switch (format_) {
    case ChatFormat::kLlama3:
    case ChatFormat::kMistral:
    case ChatFormat::kGemma:
    case ChatFormat::kDeepSeek:
      return !bos_.empty();
    default:
      return false;
  }
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  std::string out;
  // The system prompt (the first message when its role is "system", else the template's default).
  std::string_view system = default_system_;
  bool has_system = !default_system_.empty();
  size_t first = 0;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].content;
    has_system = true;
    first = 1;
  }
  const std::span<const ChatMessage> rest = messages.subspan(first);
  switch (format_) {
    case ChatFormat::kRaw:
      for (const ChatMessage& m : messages) {
        if (!out.empty() && !m.content.empty()) out += "\n\n";
        out += m.content;
      }
      break;
    case ChatFormat::kPlain:
      if (has_system) out += "System: " + std::string(system) + "\n";
      for (const ChatMessage& m : rest) out += capitalised(m.role) + ": " + m.content + "\n";
      if (add_generation_prompt) out += "Assistant:";
      break;
    case ChatFormat::kChatML:
      if (has_system) out += "<|im_start|>system\n" + std::string(system) + "<|im_end|>\n";
      for (const ChatMessage& m : rest) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      break;
    case ChatFormat::kLlama3:
      out += bos_;
      if (has_system) out += "<|start_header_id|>system<|end_header_id|>\n\n" + std::string(trim(system)) + "<|eot_id|>";
      for (const ChatMessage& m : rest) {
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + std::string(trim(m.content)) + "<|eot_id|>";
      }
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
    case ChatFormat::kMistral: {
      // Mistral v0.1: BOS once, "[INST] user [/INST]assistant</s>". Llama 2: BOS before every
      // "[INST] ", stripped contents, " assistant </s>", the system prompt in a <<SYS>> block.
      if (!llama2_sys_) out += bos_;
      bool first_user = true;
      for (const ChatMessage& m : rest) {
        if (m.role == "assistant") {
          out += llama2_sys_ ? " " + std::string(trim(m.content)) + " " + eos_ : m.content + eos_;
          continue;
        }
        std::string content = m.content;
        if (first_user && has_system) {
          content = llama2_sys_ ? "<<SYS>>\n" + std::string(system) + "\n<</SYS>>\n\n" + content
                                : std::string(system) + "\n\n" + content;
        }
        first_user = false;
        out += llama2_sys_ ? bos_ + "[INST] " + std::string(trim(content)) + " [/INST]" : "[INST] " + content + " [/INST]";
      }
      break;
    }
    case ChatFormat::kGemma: {
      out += bos_;
      bool first_turn = true;
      for (const ChatMessage& m : rest) {
        const std::string role = m.role == "assistant" ? "model" : m.role;
        out += "<start_of_turn>" + role + "\n";
        if (first_turn && has_system) out += std::string(system) + "\n\n";
        first_turn = false;
        out += std::string(trim(m.content)) + "<end_of_turn>\n";
      }
      if (add_generation_prompt) out += "<start_of_turn>model\n";
      break;
    }
    case ChatFormat::kDeepSeek:
      out += bos_;
      if (has_system) out += system;
      for (const ChatMessage& m : rest) {
        if (m.role == "assistant") {
          out += "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>" + m.content + "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
        } else {
          out += "<\xEF\xBD\x9C" "User\xEF\xBD\x9C>" + m.content;
        }
      }
      if (add_generation_prompt) out += "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>";
      break;
  }
  return out;
}

}  // namespace stencil
