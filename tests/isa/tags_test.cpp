// Op tags: which model op ("layer3.attn.qkv") each instruction belongs to. The `.op` directive,
// its disassembly, the optional binary tag section, Program::intern_tag and the validator.
#include <catch2/catch.hpp>

#include "error_of.h"
#include "isa/binary_util.h"
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "isa/isa.h"

using namespace tasim::isa;

namespace {

using tasim::testing::error_of;

std::string asm_error(const std::string& text) {
  return error_of([&] { assemble(text, "t.tasm"); });
}

std::vector<std::uint32_t> tags_of(const Program& p) {
  std::vector<std::uint32_t> tags;
  for (const Instruction& inst : p.instructions) tags.push_back(inst.tag);
  return tags;
}

// Per instruction, the name of its tag ("" = untagged): what tagging means, whatever the numbering.
std::vector<std::string> tag_names_of(const Program& p) {
  std::vector<std::string> names;
  for (const Instruction& inst : p.instructions) names.emplace_back(p.tag_name(inst.tag));
  return names;
}

using tasim::testing::header;
using tasim::testing::sealed;
using tasim::testing::unsealed;

void append(std::vector<std::uint8_t>& bytes, std::initializer_list<int> more) {
  for (const int b : more) bytes.push_back(static_cast<std::uint8_t>(b));
}

void append_u32(std::vector<std::uint8_t>& bytes, std::uint32_t v) {
  for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
}

void append_text(std::vector<std::uint8_t>& bytes, const std::string& s) {
  bytes.insert(bytes.end(), s.begin(), s.end());
}

const auto kHalt = opcode_info(Opcode::halt).code;
const auto kBarrier = opcode_info(Opcode::barrier).code;

// Three one-byte instructions: halt (tag "a"), halt (untagged), barrier (tag "bc").
const char* const kSmallText = ".op a\nhalt\n.op\nhalt\n.op bc\nbarrier\n";

// header, the instructions, then "TAGS", the names and the varint tags 1 0 2.
std::vector<std::uint8_t> small_bytes() {
  std::vector<std::uint8_t> bytes = header(3);
  append(bytes, {kHalt, kHalt, kBarrier});
  append_text(bytes, "TAGS");
  append_u32(bytes, 2);
  append_u32(bytes, 1);
  append_text(bytes, "a");
  append_u32(bytes, 2);
  append_text(bytes, "bc");
  append(bytes, {1, 0, 2});
  return bytes;
}

// asm -> encode -> decode -> disasm -> asm -> encode: the same bytes, names and tags all along.
void require_round_trip(const std::string& text) {
  const Program original = assemble(text, "orig.tasm");
  const std::vector<std::uint8_t> bytes = encode(original);
  const Program decoded = decode(bytes, "orig.bin");
  CHECK(decoded.tags == original.tags);
  CHECK(tags_of(decoded) == tags_of(original));
  const std::string disassembled = disassemble(decoded);
  const Program reassembled = assemble(disassembled, "re.tasm");
  CHECK(reassembled.tags == original.tags);
  CHECK(tags_of(reassembled) == tags_of(original));
  CHECK(encode(reassembled) == bytes);
  const std::string again = disassemble(reassembled);
  CHECK(again.substr(again.find('\n')) == disassembled.substr(disassembled.find('\n')));
}

}  // namespace

TEST_CASE("Instruction stays small with its tag", "[isa][tags]") {
  STATIC_REQUIRE(sizeof(Instruction) <= 96);
  CHECK(Instruction{}.tag == 0);
}

TEST_CASE("intern_tag numbers names from 1 and finds them again", "[isa][tags]") {
  Program p;
  CHECK(p.intern_tag("layer0.attn.qkv") == 1);
  CHECK(p.intern_tag("layer0.attn.qkv") == 1);
  CHECK(p.intern_tag("layer0.mlp.up") == 2);
  CHECK(p.intern_tag("layer0.attn.qkv") == 1);
  CHECK(p.intern_tag("layer0.mlp.up") == 2);
  CHECK(p.tags == std::vector<std::string>{"layer0.attn.qkv", "layer0.mlp.up"});
  CHECK(p.tag_name(0).empty());
  CHECK(p.tag_name(1) == "layer0.attn.qkv");
  CHECK(p.tag_name(2) == "layer0.mlp.up");
  CHECK(error_of([&] { p.tag_name(3); }) == "tag 3 is beyond the tag table (2 names)");

  // Many names: the index grows and every name keeps its number.
  Program many;
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(many.intern_tag("layer" + std::to_string(i / 10) + ".op" + std::to_string(i % 10)) ==
            static_cast<std::uint32_t>(i + 1));
  }
  for (int i = 4999; i >= 0; --i) {
    REQUIRE(many.intern_tag("layer" + std::to_string(i / 10) + ".op" + std::to_string(i % 10)) ==
            static_cast<std::uint32_t>(i + 1));
  }
  CHECK(many.tags.size() == 5000);
}

TEST_CASE("intern_tag rejects names that .tasm could not carry", "[isa][tags]") {
  Program p;
  CHECK(error_of([&] { p.intern_tag(""); }) == "invalid op tag name '': the name is empty");
  CHECK(error_of([&] { p.intern_tag("layer 3"); }) ==
        "invalid op tag name 'layer 3': a tag name holds no spaces");
  CHECK(error_of([&] { p.intern_tag("a#b"); }) ==
        "invalid op tag name 'a#b': '#' starts a comment in .tasm, so a tag name cannot hold it");
  CHECK(error_of([&] { p.intern_tag("a\tb"); }) ==
        "invalid op tag name 'a\\x09b': byte 0x09: a tag name is printable ASCII, no spaces or control "
        "characters");
  CHECK_THAT(error_of([&] { p.intern_tag(std::string(201, 'x')); }),
             Catch::EndsWith("... (201 characters): the name has 201 characters (at most 200)"));
  CHECK(p.tags.empty());
  CHECK(p.intern_tag(std::string(200, 'x')) == 1);
  CHECK(is_valid_tag_name("layer3.attn.qkv"));
  CHECK(is_valid_tag_name("a[0]/b:c=d,e"));
  CHECK_FALSE(is_valid_tag_name("caf\xc3\xa9"));
}

TEST_CASE("intern_tag stays correct after copies, moves and direct edits of the table", "[isa][tags]") {
  Program original;
  original.intern_tag("a");
  original.intern_tag("b");

  Program copy = original;
  CHECK(copy.intern_tag("b") == 2);
  CHECK(copy.intern_tag("a") == 1);
  CHECK(copy.intern_tag("c") == 3);
  CHECK(original.tags.size() == 2);  // the copy's table is its own
  CHECK(original.intern_tag("d") == 3);
  CHECK(original.intern_tag("c") == 4);
  CHECK(copy.tags == std::vector<std::string>{"a", "b", "c"});
  CHECK(original.tags == std::vector<std::string>{"a", "b", "d", "c"});

  Program assigned;
  assigned.intern_tag("zzz");
  assigned = copy;
  CHECK(assigned.intern_tag("zzz") == 4);
  CHECK(assigned.intern_tag("c") == 3);

  Program moved = std::move(copy);
  CHECK(moved.intern_tag("a") == 1);
  CHECK(moved.intern_tag("c") == 3);
  CHECK(moved.intern_tag("e") == 4);

  // Appending to the table directly: intern_tag finds those names too.
  Program direct;
  direct.intern_tag("x");
  direct.tags.push_back("y");
  direct.tags.push_back("z");
  CHECK(direct.intern_tag("z") == 3);
  CHECK(direct.intern_tag("y") == 2);
  CHECK(direct.intern_tag("x") == 1);
  // Clearing or replacing the whole table.
  direct.tags.clear();
  CHECK(direct.intern_tag("y") == 1);
  direct.tags = {"k"};
  CHECK(direct.intern_tag("y") == 2);
  CHECK(direct.intern_tag("k") == 1);
  // Entries rewritten in place: noticed when the old name is asked for.
  direct.tags = {"y", "j"};
  CHECK(direct.intern_tag("k") == 3);
  direct.tags = {"k", "y", "j"};
  CHECK(direct.intern_tag("y") == 2);
  CHECK(direct.intern_tag("k") == 1);
  CHECK(direct.tags.size() == 3);
  // Otherwise the index may miss a rewritten entry (and append its name again, which the encoder
  // merges), but it never answers with a tag of another name.
  direct.tags = {"p", "q", "r", "s"};
  for (const char* name : {"s", "p", "q", "r", "y", "k"})
    CHECK(direct.tag_name(direct.intern_tag(name)) == name);
}

TEST_CASE(".op tags the instructions that follow it", "[isa][tags][asm]") {
  const Program p = assemble(
      "halt\n"
      ".op layer0.attn.qkv   # a comment\n"
      "barrier\n"
      "\n"
      "   .op\tlayer0.mlp.up\n"
      "barrier\n"
      "barrier\n"
      ".op\n"
      "barrier\n"
      ".op layer0.attn.qkv\n"
      "halt\n",
      "t.tasm");
  CHECK(tags_of(p) == std::vector<std::uint32_t>{0, 1, 2, 2, 0, 1});
  CHECK(p.tags == std::vector<std::string>{"layer0.attn.qkv", "layer0.mlp.up"});
  CHECK(p.instructions[2].line == 6);

  // Tags are numbered by first use: a .op with no instruction after it adds nothing.
  const Program q =
      assemble(".op unused\n.op second\n.op first\nhalt\n.op second\nhalt\n.op never\n", "t.tasm");
  CHECK(q.tags == std::vector<std::string>{"first", "second"});
  CHECK(tags_of(q) == std::vector<std::uint32_t>{1, 2});

  // '#' starts a comment, also right after a name.
  const Program r = assemble(".op a#b\nhalt\n.op #x\nhalt\n", "t.tasm");
  CHECK(r.tags == std::vector<std::string>{"a"});
  CHECK(tags_of(r) == std::vector<std::uint32_t>{1, 0});

  // A program without .op lines is untagged, with an empty table.
  const Program plain = assemble("halt\n", "t.tasm");
  CHECK(plain.tags.empty());
  CHECK(plain.instructions[0].tag == 0);
}

TEST_CASE("bad directives and names are one-line errors", "[isa][tags][asm]") {
  CHECK(asm_error("halt\n.ops a\n") == "t.tasm:2: unknown directive '.ops' (did you mean '.op'?)");
  CHECK(asm_error(".Op a\n") == "t.tasm:1: unknown directive '.Op' (did you mean '.op'?)");
  CHECK(asm_error(".section text\n") ==
        "t.tasm:1: unknown directive '.section' (the only directive is '.op NAME', which tags instructions)");
  CHECK(asm_error(".op layer 3\n") ==
        "t.tasm:1: .op takes one name, got '3' after 'layer' (a tag name holds no spaces)");
  CHECK(asm_error("halt\n\n.op " + std::string(201, 'n') + "\n") ==
        "t.tasm:3: bad .op name '" + std::string(60, 'n') +
            "'... (201 characters): the name has 201 characters (at most 200)");
  CHECK(asm_error(".op a\x01z\n") ==
        "t.tasm:1: bad .op name 'a\\x01z': byte 0x01: a tag name is printable ASCII, no spaces or control "
        "characters");
  CHECK(asm_error(".op caf\xc3\xa9\n") ==
        "t.tasm:1: bad .op name 'caf\\xc3\\xa9': byte 0xc3: a tag name is printable ASCII, no spaces or "
        "control characters");
  // The name is checked at the directive, even when no instruction follows.
  CHECK(asm_error("halt\n.op a\x7f\n") ==
        "t.tasm:2: bad .op name 'a\\x7f': byte 0x7f: a tag name is printable "
        "ASCII, no spaces or control characters");
  CHECK(asm_error(".op " + std::string(200, 'n') + "\nhalt\n") == "<no error>");
}

TEST_CASE("the disassembler prints .op only where the tag changes", "[isa][tags][asm]") {
  const Program p = assemble(
      "halt\n.op a.b\nbarrier\nbarrier\n.op c\nbarrier\n.op\nhalt\nhalt\n.op a.b\nbarrier\n.op "
      "a.b\nbarrier\n",
      "t.tasm");
  CHECK(disassemble(p) ==
        "# tasim program: t.tasm, 8 instructions\n"
        "halt\n"
        ".op a.b\n"
        "barrier\n"
        "barrier\n"
        ".op c\n"
        "barrier\n"
        ".op\n"
        "halt\n"
        "halt\n"
        ".op a.b\n"
        "barrier\n"
        "barrier\n");

  // Untagged programs print exactly as before: no directive at all.
  const Program plain = assemble("halt\nbarrier\n", "plain.tasm");
  CHECK(disassemble(plain) == "# tasim program: plain.tasm, 2 instructions\nhalt\nbarrier\n");

  // Built in code: two entries of one name are one op, so no directive between them.
  Program built;
  built.source_name = "built";
  built.tags = {"x", "x", "y"};
  built.instructions.resize(4);
  built.instructions[0].tag = 1;
  built.instructions[1].tag = 2;
  built.instructions[2].tag = 3;
  built.instructions[3].tag = 0;
  CHECK(disassemble(built) ==
        "# tasim program: built, 4 instructions\n.op x\nhalt\nhalt\n.op y\nhalt\n.op\nhalt\n");

  built.instructions[2].tag = 4;
  CHECK(error_of([&] { disassemble(built); }) == "built:3: tag 4 is beyond the tag table (3 names)");
  built.instructions[2].tag = 3;
  built.tags[2] = "has space";
  CHECK(error_of([&] { disassemble(built); }) ==
        "built:3: invalid tag name 'has space': a tag name holds no spaces");
}

TEST_CASE("tagged programs round-trip through binary and text", "[isa][tags][roundtrip]") {
  require_round_trip(kSmallText);
  require_round_trip(".op only\nhalt\n");
  require_round_trip("halt\nhalt\n.op last\nhalt\n");
  // Names at the length limit and every printable character a name may hold.
  std::string all_chars;
  for (char c = '!'; c <= '~'; ++c) {
    if (c != '#') all_chars += c;
  }
  require_round_trip(".op " + std::string(200, 'z') + "\nhalt\n.op " + all_chars + "\nbarrier\n");

  // More than 127 tags: multi-byte varints.
  std::string many;
  for (int i = 0; i < 300; ++i) {
    many += ".op layer" + std::to_string(i) + ".mlp\n";
    many += "vec.add src_addr=0x" + std::to_string(i) + " src2_addr=0 dst_addr=0 rows=1 cols=1\n";
    if (i % 7 == 0) many += ".op\nbarrier\n";
  }
  many += ".op\nhalt\n";
  require_round_trip(many);
  const Program p = assemble(many, "many.tasm");
  CHECK(p.tags.size() == 300);
  const std::vector<std::uint8_t> bytes = unsealed(encode(p));
  // The last tagged instruction carries tag 300: varint 0xac 0x02; then the untagged halt.
  CHECK(bytes[bytes.size() - 3] == 0xac);
  CHECK(bytes[bytes.size() - 2] == 0x02);
  CHECK(bytes.back() == 0x00);
}

TEST_CASE("the tag section layout", "[isa][tags][roundtrip]") {
  const Program p = assemble(kSmallText, "small.tasm");
  CHECK(unsealed(encode(p)) == small_bytes());
  const Program d = decode(sealed(small_bytes()), "small.bin");
  CHECK(d.tags == std::vector<std::string>{"a", "bc"});
  CHECK(tags_of(d) == std::vector<std::uint32_t>{1, 0, 2});
  CHECK(d.instructions[2].op == Opcode::barrier);
}

TEST_CASE("untagged programs encode exactly as before", "[isa][tags][roundtrip]") {
  const Program p = assemble(
      "sem.signal core=1 unit=mxu2 sem=0x123\n"
      "halt\n",
      "plain.tasm");
  std::vector<std::uint8_t> expected = header(2);
  append(expected, {opcode_info(Opcode::sem_signal).code, 0x01, 0x42, 0x23, 0x01, kHalt});
  CHECK(unsealed(encode(p)) == expected);

  // A table whose names no instruction uses adds nothing either.
  Program unused = p;
  unused.intern_tag("never.used");
  CHECK(unsealed(encode(unused)) == expected);
  CHECK(decode(sealed(expected), "plain.bin").tags.empty());
}

TEST_CASE("the encoder renumbers tags by first use", "[isa][tags][roundtrip]") {
  // The compiler interned the names in another order, with an unused one and a duplicate.
  Program built;
  built.source_name = "built";
  built.tags = {"unused", "bc", "a", "bc"};
  built.instructions.resize(3);
  built.instructions[0].tag = 3;  // a
  built.instructions[1].tag = 0;
  built.instructions[2].op = Opcode::barrier;
  built.instructions[2].tag = 4;  // bc, second entry
  CHECK(unsealed(encode(built)) == small_bytes());
  const Program decoded = decode(encode(built), "built.bin");
  CHECK(tag_names_of(decoded) == tag_names_of(built));
  CHECK(decoded.tags == std::vector<std::string>{"a", "bc"});
  CHECK(unsealed(encode(assemble(disassemble(built), "built.tasm"))) == small_bytes());

  built.instructions[1].tag = 5;
  CHECK(error_of([&] { encode(built); }) == "built:2: tag 5 is beyond the tag table (4 names)");
  built.instructions[1].tag = 0;
  built.tags[2] = "";
  CHECK(error_of([&] { encode(built); }) == "built:1: invalid tag name '': the name is empty");
}

TEST_CASE("decode rejects corrupt tag sections with a clear error", "[isa][tags][decode]") {
  const std::vector<std::uint8_t> good = small_bytes();
  const std::size_t section = 12 + 3;  // where "TAGS" starts
  const std::size_t names = section + 8;
  const std::size_t varints = good.size() - 3;
  REQUIRE(decode(sealed(good), "g.bin").instructions.size() == 3);

  // Cut anywhere inside the section: an error, never a crash (a cut right at the marker is an
  // untagged program, the shortest cut inside it mere trailing bytes).
  for (std::size_t size = section + 1; size < good.size(); ++size) {
    const std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(size));
    INFO("cut at " << size);
    CHECK_THAT(error_of([&] { decode(sealed(cut), "cut.bin"); }), Catch::StartsWith("cut.bin: "));
  }
  CHECK(error_of([&] {
          decode(sealed(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(section) + 2)),
                 "c.bin");
        }) == "c.bin: 2 trailing bytes at offset 15, after the last of 3 instructions");
  CHECK(error_of([&] {
          decode(sealed(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(section) + 6)),
                 "c.bin");
        }) == "c.bin: truncated tag section: the name count at offset 19 needs 4 bytes, only 2 left");
  CHECK(
      error_of([&] {
        decode(sealed(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(names) + 6)), "c.bin");
      }) ==
      "c.bin: truncated tag section: the length of tag name 2 of 2 at offset 28 needs 4 bytes, only 1 left");
  CHECK(error_of([&] {
          decode(sealed(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(names) + 10)),
                 "c.bin");
        }) == "c.bin: truncated tag section: tag name 2 of 2 at offset 32 needs 2 bytes, only 1 left");
  CHECK(error_of([&] {
          decode(sealed(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(varints) + 1)),
                 "c.bin");
        }) ==
        "c.bin: truncated tag section: the tags of instructions 2 to 3 are missing (the file ends at offset "
        "35)");

  std::vector<std::uint8_t> marker = good;
  marker[section + 3] = 'X';
  CHECK(error_of([&] { decode(sealed(marker), "m.bin"); }) ==
        "m.bin: " + std::to_string(good.size() - section) +
            " trailing bytes at offset 15, after the last of 3 instructions");

  std::vector<std::uint8_t> empty_name = good;
  empty_name[names] = 0;
  CHECK(error_of([&] { decode(sealed(empty_name), "n.bin"); }) ==
        "n.bin: bad tag section: tag name 1 at offset 23 has length 0 (names have 1 to 200 bytes)");
  std::vector<std::uint8_t> huge_name = good;
  huge_name[names + 3] = 0xff;
  CHECK(error_of([&] { decode(sealed(huge_name), "n.bin"); }) ==
        "n.bin: bad tag section: tag name 1 at offset 23 has length 4278190081 (names have 1 to 200 bytes)");
  std::vector<std::uint8_t> bad_char = good;
  bad_char[names + 4] = ' ';
  CHECK(error_of([&] { decode(sealed(bad_char), "n.bin"); }) ==
        "n.bin: bad tag section: tag name 1 ' ' at offset 27: a tag name holds no spaces");
  std::vector<std::uint8_t> hash_char = good;
  hash_char[names + 4 + 1 + 4 + 1] = '#';
  CHECK_THAT(error_of([&] { decode(sealed(hash_char), "n.bin"); }),
             Catch::StartsWith("n.bin: bad tag section: tag name 2 'b#' at offset 32: '#' starts a comment"));

  // A huge name count must not make decode allocate for it.
  std::vector<std::uint8_t> lying = good;
  lying[section + 4 + 3] = 0xff;
  CHECK(error_of([&] { decode(sealed(lying), "l.bin"); }) ==
        "l.bin: truncated tag section: the length of tag name 3 of 4278190082 at offset 34 needs 4 bytes, "
        "only 3 "
        "left");

  std::vector<std::uint8_t> beyond = good;
  beyond[varints + 2] = 3;
  CHECK(error_of([&] { decode(sealed(beyond), "b.bin"); }) ==
        "b.bin: bad tag section: instruction 3 has tag 3 at offset 36, beyond the tag table (2 names)");

  std::vector<std::uint8_t> trailing = good;
  trailing.push_back(0);
  CHECK(error_of([&] { decode(sealed(trailing), "t.bin"); }) ==
        "t.bin: 1 trailing bytes at offset 37, after the tag section");

  // Varints: shortest form only, at most 5 bytes.
  std::vector<std::uint8_t> overlong(good.begin(), good.begin() + static_cast<long>(varints));
  append(overlong, {0x81, 0x00, 0, 2});
  CHECK(error_of([&] { decode(sealed(overlong), "v.bin"); }) ==
        "v.bin: bad tag section: the tag of instruction 1 at offset 34 is an overlong varint");
  std::vector<std::uint8_t> too_long(good.begin(), good.begin() + static_cast<long>(varints));
  append(too_long, {0x81, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 2});
  CHECK(error_of([&] { decode(sealed(too_long), "v.bin"); }) ==
        "v.bin: bad tag section: the tag of instruction 1 at offset 34 is a varint longer than 5 bytes");
  std::vector<std::uint8_t> wide(good.begin(), good.begin() + static_cast<long>(varints));
  append(wide, {0xff, 0xff, 0xff, 0xff, 0x7f, 0, 2});
  CHECK(error_of([&] { decode(sealed(wide), "v.bin"); }) ==
        "v.bin: bad tag section: instruction 1 has tag 34359738367 at offset 34, beyond the tag table (2 "
        "names)");

  // Duplicate names would split one op in two.
  std::vector<std::uint8_t> dup = header(2);
  append(dup, {kHalt, kHalt});
  append_text(dup, "TAGS");
  append_u32(dup, 2);
  append_u32(dup, 1);
  append_text(dup, "a");
  append_u32(dup, 1);
  append_text(dup, "a");
  append(dup, {1, 2});
  CHECK(error_of([&] { decode(sealed(dup), "d.bin"); }) ==
        "d.bin: bad tag section: tags 1 and 2 have the same name 'a'");

  // A section the encoder would not write (unused names, another order) is still a valid program.
  std::vector<std::uint8_t> loose = header(2);
  append(loose, {kHalt, kHalt});
  append_text(loose, "TAGS");
  append_u32(loose, 3);
  for (const char* name : {"zz", "y", "x"}) {
    append_u32(loose, static_cast<std::uint32_t>(std::strlen(name)));
    append_text(loose, name);
  }
  append(loose, {3, 2});
  const Program p = decode(sealed(loose), "loose.bin");
  CHECK(tag_names_of(p) == std::vector<std::string>{"x", "y"});
  const std::vector<std::uint8_t> canonical = unsealed(encode(p));
  CHECK(canonical.size() < loose.size());
  CHECK(tag_names_of(decode(sealed(canonical), "c.bin")) == tag_names_of(p));
  CHECK(unsealed(encode(assemble(disassemble(p), "p.tasm"))) == canonical);
}

TEST_CASE("decode never crashes on corrupted tag sections", "[isa][tags][decode]") {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    if (i % 3 == 0) text += ".op layer" + std::to_string(i % 9) + ".op" + std::to_string(i % 4) + "\n";
    if (i % 11 == 0) text += ".op\n";
    text += i % 2 ? "barrier\n" : "sem.signal unit=dma0 sem=" + std::to_string(i) + "\n";
  }
  Program program = assemble(text, "f.tasm");
  const std::vector<std::uint8_t> good = unsealed(encode(program));
  for (Instruction& inst : program.instructions) inst.tag = 0;
  const std::size_t section = unsealed(encode(program)).size();  // where "TAGS" starts
  REQUIRE(section < good.size());
  REQUIRE(good[section] == 'T');
  std::mt19937 rng(2024);
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i)
      bytes[section + rng() % (bytes.size() - section)] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    if (trial % 4 == 3) bytes.resize(section + rng() % (bytes.size() - section));
    if (trial % 5 == 4) bytes.push_back(static_cast<std::uint8_t>(rng()));
    try {
      const Program p = decode(sealed(bytes), "fuzz.bin");
      ++accepted;
      // Whatever decodes prints, reassembles and encodes to the same tagging.
      const Program again = assemble(disassemble(p), "fuzz.tasm");
      CHECK(tag_names_of(again) == tag_names_of(p));
      CHECK(encode(again) == encode(p));
    } catch (const tasim::Error& e) {
      ++rejected;
      CHECK_THAT(std::string(e.what()), Catch::StartsWith("fuzz.bin: "));
    }
  }
  CHECK(accepted > 0);
  CHECK(rejected > 0);
}

TEST_CASE("the validator checks tags against the tag table", "[isa][tags][validate]") {
  TargetLimits target;
  Program p = assemble("barrier\n.op a\nbarrier\nhalt\n", "v.tasm");
  CHECK(find_problems(p, target).empty());
  p.instructions[1].tag = 7;
  CHECK(find_problems(p, target) ==
        std::vector<std::string>{"v.tasm:3: tag 7 is beyond the tag table (1 name)"});

  p.instructions[1].tag = 1;
  p.instructions[2].tag = 1;
  p.tags[0] = "two words";
  // The name is reported once, at its first use.
  CHECK(
      find_problems(p, target) ==
      std::vector<std::string>{"v.tasm:3: invalid tag name 'two words' (tag 1): a tag name holds no spaces"});

  Program built;
  built.source_name = "built";
  built.instructions.resize(1);
  built.instructions[0].tag = 1;
  CHECK(error_of([&] { validate(built, target); }) == "built:1: tag 1 is beyond the tag table (0 names)");
}

TEST_CASE("the mlp_block example is tagged by op", "[isa][tags][examples]") {
  const std::string path = std::string(TASIM_SOURCE_DIR) + "/isa/examples/mlp_block.tasm";
  const Program p = load_program(path);
  REQUIRE(p.tags.size() >= 10);
  CHECK(p.tags.front() == "layer0.inputs");
  std::size_t matmuls = 0;
  for (const Instruction& inst : p.instructions) {
    if (inst.op == Opcode::matmul) {
      ++matmuls;
      CHECK_THAT(std::string(p.tag_name(inst.tag)), Catch::Contains(".q") || Catch::Contains(".mlp."));
    }
  }
  CHECK(matmuls == 5);
  CHECK(p.instructions.back().op == Opcode::halt);
  CHECK(p.instructions.back().tag == 0);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  require_round_trip(text.str());
}

TEST_CASE("a large tagged program round-trips through the binary", "[isa][tags][asm]") {
  std::string text;
  const int lines = 500000;
  text.reserve(static_cast<std::size_t>(lines) * 80);
  for (int i = 0; i < lines; ++i) {
    if (i % 8 == 0) text += ".op layer" + std::to_string(i / 4000) + ".op" + std::to_string(i % 5) + "\n";
    text += "matmul a_addr=0x0 b_addr=0x8000 c_addr=0x10000 m=128 n=128 k=128 dtype=fp8\n";
  }
  const Program p = assemble(text, "big.tasm");
  const Program d = decode(encode(p), "big.bin");
  CHECK(p.instructions.size() == static_cast<std::size_t>(lines));
  CHECK(p.tags.size() == static_cast<std::size_t>((lines - 1) / 4000 + 1) * 5);
  CHECK(tags_of(d) == tags_of(p));
}

TEST_CASE("the reference documents the directive and the tag section", "[isa][tags][docs]") {
  const std::string md = reference_markdown();
  for (const char* topic :
       {"`.op NAME`", "### Tag section", "marker `TAGS`", "LEB128", "order of first use"}) {
    INFO(topic);
    CHECK(md.find(topic) != std::string::npos);
  }
}
