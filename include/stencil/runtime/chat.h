// stencil::ChatTemplate: turns system/user/assistant messages into the prompt text a chat model
// was trained on.
//
// This is not a Jinja engine. It recognises the common template families from the template text
// (GGUF tokenizer.chat_template, tokenizer_config.json chat_template) by their marker tokens and
// renders messages the way those templates do:
//   kChatML   "<|im_start|>"          SmolLM2, Qwen2/2.5/3 (a default system prompt written into the
//                                     template, as SmolLM2's and Qwen2.5's have, is used when the
//                                     conversation has none)
//   kLlama3   "<|start_header_id|>"   Llama 3.x (content trimmed, BOS text first)
//   kMistral  "[INST]"                Mistral v0.1 / Llama 2 (Llama 2's "<<SYS>>" system block when
//                                     the template has it; otherwise the system prompt is put in
//                                     front of the first user message)
//   kGemma    "<start_of_turn>"       Gemma 2/3 (assistant is "model"; system folded into the first
//                                     user turn; content trimmed)
//   kDeepSeek "<｜User｜>"            DeepSeek V3 / R1
// An empty or unrecognised template gives kPlain ("User: ...\nAssistant:") with warning() saying
// so; kRaw renders the message contents only, for --raw. Tool calls, multimodal content and
// thinking blocks are not rendered.
//
// The rendered text contains the special tokens as text (e.g. "<|begin_of_text|>"): encode it with
// EncodeOptions{.add_special = false, .parse_special = true}; renders_bos() says whether the BOS
// text is already in it. Thread-safety: immutable value type.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace stencil {

class Tokenizer;

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFormat { kRaw, kPlain, kChatML, kLlama3, kMistral, kGemma, kDeepSeek };
std::string_view chat_format_name(ChatFormat format) noexcept;

class ChatTemplate {
 public:
  // Recognises the family of a Jinja chat template. `bos_token` / `eos_token` are the texts the
  // template's bos_token / eos_token variables hold (e.g. "<s>", "</s>"). Never throws: an empty
  // or unknown template gives kPlain with a warning.
  static ChatTemplate detect(std::string_view template_text, std::string_view bos_token = {},
                             std::string_view eos_token = {});
  // The template of a model's tokenizer (Tokenizer::chat_template()), with its BOS/EOS texts. When
  // the model carries no template but its vocabulary has a family's marker tokens (<|im_start|>,
  // <|start_header_id|>, <start_of_turn>), that family is used, with a warning saying it was guessed.
  static ChatTemplate for_tokenizer(const Tokenizer& tokenizer);
  // By name: "raw", "plain", "chatml", "llama3", "mistral", "llama2", "gemma", "deepseek".
  // Throws ArgumentError for any other name.
  static ChatTemplate named(std::string_view name, std::string_view bos_token = {}, std::string_view eos_token = {});

  // The prompt for `messages`, ending with the assistant header when add_generation_prompt.
  std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt = true) const;

  ChatFormat format() const noexcept { return format_; }
  // Why a fallback was taken ("no chat template ...", "unrecognised chat template ..."); empty otherwise.
  const std::string& warning() const noexcept { return warning_; }
  // The system prompt used when the conversation has none (from the template text; often empty).
  const std::string& default_system() const noexcept { return default_system_; }
  // Whether render() writes the BOS token's text at the start.
  bool renders_bos() const noexcept;

 private:
  ChatFormat format_ = ChatFormat::kPlain;
  bool llama2_sys_ = false;  // kMistral: Llama 2's <<SYS>> block
  std::string bos_, eos_;
  std::string default_system_;
  std::string warning_;
};

}  // namespace stencil
