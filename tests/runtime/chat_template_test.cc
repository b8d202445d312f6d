// stencil::ChatTemplate against the real chat templates: the expected strings were produced by
// rendering each template with Jinja2 (trim_blocks, lstrip_blocks, as transformers does) for the
// conversations below. Templates come from the shared tokenizer_config.json files (llama3, qwen3,
// gemma3, deepseek_v3) or, for models whose config is not in shared/ (SmolLM2, Mistral v0.1,
// Llama 2), are the published template texts copied here.
#include "stencil/runtime/chat.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "runtime/tokenizer_test_util.h"
#include "stencil/errors.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

const char* kSmolLM2Template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' "
    "+ message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt "
    "%}{{ '<|im_start|>assistant\n' }}{% endif %}";
const char* kMistralTemplate =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
    "are supported!') }}{% endif %}{% endfor %}";
const char* kLlama2Template =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif "
    "%}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if "
    "message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif "
    "message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

struct TemplateSource {
  std::string text;
  std::string bos, eos;
  bool present = false;
};

std::string config_token(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return {};
  const auto& v = c[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v["content"].get<std::string>();
  return {};
}

TemplateSource template_for(const std::string& name) {
  if (name == "smollm2") return {kSmolLM2Template, "<|im_start|>", "<|im_end|>", true};
  if (name == "mistral") return {kMistralTemplate, "<s>", "</s>", true};
  if (name == "llama2") return {kLlama2Template, "<s>", "</s>", true};
  std::ifstream in(testing::data_dir() + "/tokenizers/" + name + "/tokenizer_config.json");
  if (!in) return {};
  const auto c = nlohmann::json::parse(in);
  return {c.at("chat_template").get<std::string>(), config_token(c, "bos_token"), config_token(c, "eos_token"), true};
}

const std::map<std::string, std::vector<ChatMessage>>& conversations() {
  static const std::map<std::string, std::vector<ChatMessage>> c = {
      {"system_user", {{"system", "You are a helpful assistant."}, {"user", "What's the weather in Paris?"}}},
      {"user_only", {{"user", " Hi there \n"}}},
      {"multi_turn", {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}}},
      {"multi_no_system", {{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}}},
  };
  return c;
}

struct Case {
  std::string model;
  std::string conversation;
  std::string expected;
};

class ChatTemplateTest : public ::testing::TestWithParam<Case> {};

TEST_P(ChatTemplateTest, RendersLikeTheJinjaTemplate) {
  const Case& c = GetParam();
  const TemplateSource src = template_for(c.model);
  if (!src.present) GTEST_SKIP() << "tokenizer_config.json of " << c.model << " is absent (run scripts/prepare-data)";
  const ChatTemplate t = ChatTemplate::detect(src.text, src.bos, src.eos);
  EXPECT_TRUE(t.warning().empty()) << t.warning();
  EXPECT_EQ(t.render(conversations().at(c.conversation), true), c.expected)
      << c.model << " / " << c.conversation << " as " << chat_format_name(t.format());
}

INSTANTIATE_TEST_SUITE_P(Real, ChatTemplateTest, ::testing::ValuesIn(std::vector<Case>{
      {"llama3", "system_user", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat's the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"llama3", "user_only", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"llama3", "multi_turn", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"llama3", "multi_no_system", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"qwen3", "system_user", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat's the weather in Paris?<|im_end|>\n<|im_start|>assistant\n"},
      {"qwen3", "user_only", "<|im_start|>user\n Hi there \n<|im_end|>\n<|im_start|>assistant\n"},
      {"qwen3", "multi_turn", "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
      {"qwen3", "multi_no_system", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
      {"gemma3", "system_user", "<bos><start_of_turn>user\nYou are a helpful assistant.\n\nWhat's the weather in Paris?<end_of_turn>\n<start_of_turn>model\n"},
      {"gemma3", "user_only", "<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n"},
      {"gemma3", "multi_turn", "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"},
      {"gemma3", "multi_no_system", "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"},
      {"deepseek_v3", "system_user", "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" ">You are a helpful assistant.<\xEF\xBD\x9C" "User\xEF\xBD\x9C" ">What's the weather in Paris?<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">"},
      {"deepseek_v3", "user_only", "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" "><\xEF\xBD\x9C" "User\xEF\xBD\x9C" "> Hi there \n<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">"},
      {"deepseek_v3", "multi_turn", "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" ">Be brief.<\xEF\xBD\x9C" "User\xEF\xBD\x9C" ">Hi<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">Hello!<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" "><\xEF\xBD\x9C" "User\xEF\xBD\x9C" ">Bye<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">"},
      {"deepseek_v3", "multi_no_system", "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" "><\xEF\xBD\x9C" "User\xEF\xBD\x9C" ">Hi<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">Hello!<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C" "><\xEF\xBD\x9C" "User\xEF\xBD\x9C" ">Bye<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C" ">"},
      {"smollm2", "system_user", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat's the weather in Paris?<|im_end|>\n<|im_start|>assistant\n"},
      {"smollm2", "user_only", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n<|im_start|>assistant\n"},
      {"smollm2", "multi_turn", "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
      {"smollm2", "multi_no_system", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
      {"mistral", "user_only", "<s>[INST]  Hi there \n [/INST]"},
      {"mistral", "multi_no_system", "<s>[INST] Hi [/INST]Hello!</s>[INST] Bye [/INST]"},
      {"llama2", "system_user", "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nWhat's the weather in Paris? [/INST]"},
      {"llama2", "user_only", "<s>[INST] Hi there [/INST]"},
      {"llama2", "multi_turn", "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]"},
      {"llama2", "multi_no_system", "<s>[INST] Hi [/INST] Hello! </s><s>[INST] Bye [/INST]"},

    }),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.model + "_" + info.param.conversation; });

TEST(ChatTemplateDetectTest, RecognisesFamilies) {
  const std::pair<std::string, ChatFormat> cases[] = {
      {"smollm2", ChatFormat::kChatML}, {"mistral", ChatFormat::kMistral}, {"llama2", ChatFormat::kMistral},
      {"llama3", ChatFormat::kLlama3},  {"qwen3", ChatFormat::kChatML},    {"gemma3", ChatFormat::kGemma},
      {"deepseek_v3", ChatFormat::kDeepSeek}};
  for (const auto& [model, format] : cases) {
    const TemplateSource src = template_for(model);
    if (!src.present) continue;
    EXPECT_EQ(ChatTemplate::detect(src.text).format(), format) << model;
  }
  EXPECT_EQ(ChatTemplate::detect(kSmolLM2Template).default_system(),
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  // Qwen3's system block is Jinja code, not a literal default prompt.
  const TemplateSource qwen = template_for("qwen3");
  if (qwen.present) EXPECT_EQ(ChatTemplate::detect(qwen.text).default_system(), "");
  // Qwen2.5 writes its default with escaped newlines inside a Jinja string.
  EXPECT_EQ(ChatTemplate::detect("{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
                                 "helpful assistant.<|im_end|>\\n' }}")
                .default_system(),
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
}

TEST(ChatTemplateDetectTest, UnknownOrMissingTemplateFallsBackToPlainWithAWarning) {
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
  for (const std::string text : {std::string(), std::string("{{ messages[0]['content'] }}<|user|>")}) {
    const ChatTemplate t = ChatTemplate::detect(text);
    EXPECT_EQ(t.format(), ChatFormat::kPlain);
    EXPECT_FALSE(t.warning().empty());
    EXPECT_EQ(t.render(msgs), "System: Be brief.\nUser: Hi\nAssistant:");
    EXPECT_EQ(t.render(msgs, false), "System: Be brief.\nUser: Hi\n");
  }
}

TEST(ChatTemplateDetectTest, RawAndNamed) {
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Once upon a time"}};
  EXPECT_EQ(ChatTemplate::named("raw").render(msgs), "Be brief.\n\nOnce upon a time");
  EXPECT_EQ(ChatTemplate::named("raw").render(std::vector<ChatMessage>{{"user", "Once upon a time"}}),
            "Once upon a time");
  EXPECT_EQ(ChatTemplate::named("chatml").render(msgs),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n"
            "<|im_start|>assistant\n");
  // Mistral v0.1's template rejects a system message; we put it in front of the first user turn.
  EXPECT_EQ(ChatTemplate::named("mistral", "<s>", "</s>").render(msgs), "<s>[INST] Be brief.\n\nOnce upon a time [/INST]");
  EXPECT_TRUE(ChatTemplate::named("llama3", "<|begin_of_text|>").renders_bos());
  EXPECT_FALSE(ChatTemplate::named("chatml").renders_bos());
  EXPECT_THROW(ChatTemplate::named("jinja"), ArgumentError);
}

// The tokenizer carries the template, and the rendered special tokens encode as single ids.
TEST(ChatTemplateTokenizerTest, RenderedPromptEncodesSpecialTokens) {
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, "qwen3");
  const ChatTemplate t = ChatTemplate::detect(tok->chat_template());
  ASSERT_EQ(t.format(), ChatFormat::kChatML);
  const std::string prompt = t.render(std::vector<ChatMessage>{{"user", "Hi there"}});
  const std::vector<int32_t> ids = tok->encode(prompt, {.add_special = false, .parse_special = true});
  // <|im_start|> user \n Hi there <|im_end|> \n <|im_start|> assistant \n (reference ids from tokenization.jsonl).
  EXPECT_EQ(ids, (std::vector<int32_t>{151644, 872, 198, 13048, 1052, 151645, 198, 151644, 77091, 198}));
  EXPECT_TRUE(tok->is_eos(151645));  // <|im_end|> ends the turn
}

TEST(ChatTemplateTokenizerTest, ForTokenizer) {
  const std::vector<ChatMessage> msgs = {{"user", "Hi"}};
  if (const Tokenizer* tok = testing::load_tokenizer("llama3")) {
    const ChatTemplate t = ChatTemplate::for_tokenizer(*tok);
    EXPECT_EQ(t.format(), ChatFormat::kLlama3);
    EXPECT_TRUE(t.warning().empty());
    EXPECT_TRUE(t.renders_bos());
    EXPECT_EQ(t.render(msgs), "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                              "<|start_header_id|>assistant<|end_header_id|>\n\n");
  }
  if (const Tokenizer* tok = testing::load_tokenizer("smollm2")) {  // no tokenizer_config.json in shared/
    const ChatTemplate t = ChatTemplate::for_tokenizer(*tok);
    EXPECT_EQ(t.format(), ChatFormat::kChatML);
    EXPECT_NE(t.warning().find("guessed"), std::string::npos) << t.warning();
  }
  if (const Tokenizer* tok = testing::load_tokenizer("stories260k")) {  // a story model: no template, no markers
    const ChatTemplate t = ChatTemplate::for_tokenizer(*tok);
    EXPECT_EQ(t.format(), ChatFormat::kPlain);
    EXPECT_FALSE(t.warning().empty());
  }
  if (testing::load_tokenizer("llama3") == nullptr && testing::load_tokenizer("stories260k") == nullptr) {
    GTEST_SKIP() << "no tokenizer data";
  }
}

}  // namespace
}  // namespace stencil
