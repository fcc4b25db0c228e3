// The pieces of a sweep's results without running anything: constraints, CSV and JSONL cells,
// reading a results file back, and Pareto marking.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.h"
#include "common/error.h"
#include "sim/sweep/constraint.h"
#include "sim/sweep/pareto.h"
#include "sim/sweep/table.h"

using namespace tasim;
using namespace tasim::sweep;
using Strings = std::vector<std::string>;

TEST_CASE("constraints parse with or without spaces and compare numbers", "[sweep]") {
  const Constraint c = parse_constraint("area_mm2<=800");
  CHECK(c.name == "area_mm2");
  CHECK(c.op == CompareOp::le);
  CHECK(c.bound == 800);
  CHECK(c.text() == "area_mm2 <= 800");
  CHECK(constraint_holds(c, 800));
  CHECK_FALSE(constraint_holds(c, 800.5));
  CHECK(constraint_holds(parse_constraint("tokens_per_second > 1e3"), 1000.5));
  CHECK_FALSE(constraint_holds(parse_constraint("tokens_per_second > 1e3"), 1000));
  CHECK(constraint_holds(parse_constraint("run.batch != 3"), 4));
  CHECK(constraint_holds(parse_constraint("run.batch == 3"), 3));
  CHECK(constraint_holds(parse_constraint("mfu >= 0.5"), 0.5));
  CHECK(constraint_holds(parse_constraint("chips < 8"), 4));
  CHECK(constraint_miss(c, "912.4") == "constraint area_mm2 <= 800 not met (912.4)");
  CHECK(constraint_miss(c, "") == "constraint area_mm2 <= 800 not met (no value)");
  CHECK_THROWS_WITH(parse_constraint("area_mm2 800"),
                    "'area_mm2 800' is not '<name> <op> <number>' (no operator: use one of <= < >= > == "
                    "!=), e.g. 'area_mm2 <= 800'");
  CHECK_THROWS_WITH(
      parse_constraint("<= 800"),
      "'<= 800' is not '<name> <op> <number>' (no name before the operator), e.g. 'area_mm2 <= 800'");
  CHECK_THROWS_WITH(
      parse_constraint("area_mm2 <= big"),
      "'area_mm2 <= big' is not '<name> <op> <number>' ('big' is not a number), e.g. 'area_mm2 <= 800'");
}

TEST_CASE("CSV cells are quoted only where RFC 4180 needs it", "[sweep]") {
  CHECK(csv_line({"0", "8", "ok", "", "1.5e-05"}) == "0,8,ok,,1.5e-05\n");
  CHECK(csv_line({"1", "failed", "tasim: error: a, b"}) == "1,failed,\"tasim: error: a, b\"\n");
  CHECK(csv_line({"say \"hi\"", "x"}) == "\"say \"\"hi\"\"\",x\n");
  CHECK(single_line("tasim: error: one\ntwo\tthree\n") == "tasim: error: one two three");
}

TEST_CASE("JSONL rows keep the columns' order with numbers as numbers and empty cells as null", "[sweep]") {
  const Strings header{"point", "arch", "run.batch", "status", "error", "step_seconds", "pareto"};
  CHECK(jsonl_line(header, {"3", "sohu-like", "64", "ok", "", "1.5e-05", "1"}) ==
        "{\"point\": 3, \"arch\": \"sohu-like\", \"run.batch\": 64, \"status\": \"ok\", \"error\": null, "
        "\"step_seconds\": 1.5e-05, \"pareto\": 1}\n");
  CHECK(jsonl_line(header, {"4", "a \"b\"", "08", "failed", "x", "", ""}) ==
        "{\"point\": 4, \"arch\": \"a \\\"b\\\"\", \"run.batch\": \"08\", \"status\": \"failed\", "
        "\"error\": \"x\", \"step_seconds\": null, \"pareto\": null}\n");
  CHECK(is_json_number("0"));
  CHECK(is_json_number("-1.25e+3"));
  CHECK_FALSE(is_json_number("08"));
  CHECK_FALSE(is_json_number("+1"));
  CHECK_FALSE(is_json_number("1."));
  CHECK_FALSE(is_json_number("inf"));
  CHECK(jsonl_path("out/results.csv") == "out/results.jsonl");
  CHECK(jsonl_path("out/results") == "out/results.jsonl");
}

TEST_CASE("a results CSV reads back with its cut-short last line left out", "[sweep]") {
  namespace fs = std::filesystem;
  const std::string path = testing::build_path("sweep_table_test.csv");
  const Table table{{"point", "run.batch", "status", "error"},
                    {{"0", "8", "ok", ""}, {"1", "16", "failed", "tasim: error: x, \"y\""}}};
  write_results(path, table);
  CHECK(testing::read_file(path) ==
        "point,run.batch,status,error\n0,8,ok,\n1,16,failed,\"tasim: error: x, \"\"y\"\"\"\n");
  CHECK(testing::read_file(jsonl_path(path)) ==
        "{\"point\": 0, \"run.batch\": 8, \"status\": \"ok\", \"error\": null}\n{\"point\": 1, "
        "\"run.batch\": 16, \"status\": \"failed\", \"error\": \"tasim: error: x, \\\"y\\\"\"}\n");
  CsvFile back = read_results_csv(path);
  CHECK(back.table.header == table.header);
  CHECK(back.table.rows == table.rows);
  CHECK(back.partial_lines == 0);
  {
    ResultsAppender appender(path, table.header);
    appender.append({"2", "24", "ok", ""});
  }
  testing::write_text(path, testing::read_file(path) + "3,32,o");  // killed while writing a row
  back = read_results_csv(path);
  CHECK(back.table.rows.size() == 3);
  CHECK(back.table.rows.back() == Strings{"2", "24", "ok", ""});
  CHECK(back.partial_lines == 1);
  testing::write_text(path, "point,a\n0,1,2\n");
  CHECK_THROWS_WITH(read_results_csv(path), path + ":2: 3 cells, but the header has 2 columns");
  fs::remove(path);
  fs::remove(jsonl_path(path));
}

TEST_CASE("directions are inferred from metric names or stated", "[sweep]") {
  for (const char* name : {"area_mm2", "energy_j", "avg_power_w", "step_seconds", "cycles", "hbm_bytes",
                           "chips", "sim_over_roofline"}) {
    INFO(name);
    CHECK(infer_direction(name) == Direction::min);
  }
  for (const char* name :
       {"tokens_per_second", "tokens_per_joule", "mfu", "utilization.matrix", "hbm_bandwidth_gbps"}) {
    INFO(name);
    CHECK(infer_direction(name) == Direction::max);
  }
  CHECK_FALSE(infer_direction("run.batch"));

  const Strings header{"point", "run.batch", "status", "error", "area_mm2", "tokens_per_second"};
  const auto o = parse_objectives("x=area_mm2,y=tokens_per_second", header);
  REQUIRE(o.size() == 2);
  CHECK(o[0].label == "x");
  CHECK(o[0].column == "area_mm2");
  CHECK(o[0].direction == Direction::min);
  CHECK(o[0].inferred);
  CHECK(o[1].direction == Direction::max);
  CHECK(describe_objectives(o) == "x=area_mm2 (min, inferred), y=tokens_per_second (max, inferred)");
  const auto stated = parse_objectives("run.batch:max,area_mm2:max", header);
  CHECK(stated[0].direction == Direction::max);
  CHECK_FALSE(stated[0].inferred);
  CHECK(stated[1].direction == Direction::max);
  CHECK(describe_objectives(stated) == "run.batch (max), area_mm2 (max)");
  CHECK_THROWS_WITH(parse_objectives("x=run.batch", header),
                    "--pareto: cannot tell whether run.batch is better small or large: write "
                    "x=run.batch:min or x=run.batch:max");
  CHECK_THROWS_WITH(parse_objectives("x=area,y=tokens_per_second", header),
                    "--pareto: 'area' is not a numeric column of the results (did you mean 'area_mm2'?)");
  CHECK_THROWS_WITH(parse_objectives("x=status", header),
                    "--pareto: 'status' is not a numeric column of the results");
  CHECK_THROWS_WITH(parse_objectives("x=area_mm2:low", header),
                    "--pareto: 'x=area_mm2:low': the direction is min or max, not 'low'");
  CHECK_THROWS_WITH(parse_objectives("x=area_mm2,y=area_mm2", header), "--pareto: area_mm2 is given twice");
}

TEST_CASE("the pareto front keeps undominated points and ties", "[sweep]") {
  // Minimize both: (1,5) (2,3) (4,1) are the front; (3,3) is beaten by (2,3); (2,3) appears
  // twice and both copies stay; (4,2) is beaten by (4,1); (5,5) by everything.
  const std::vector<std::vector<double>> points{{3, 3}, {1, 5}, {2, 3}, {4, 1}, {2, 3}, {4, 2}, {5, 5}};
  CHECK(pareto_front(points) == std::vector<bool>{false, true, true, true, true, false, false});
  // Three objectives take the general path; a point only beaten in two of three stays.
  const std::vector<std::vector<double>> three{{1, 1, 5}, {2, 2, 1}, {2, 2, 6}, {1, 1, 5}};
  CHECK(pareto_front(three) == std::vector<bool>{true, true, false, true});
  CHECK(pareto_front({}).empty());
}

TEST_CASE("the two-objective front agrees with the pairwise definition", "[sweep]") {
  // A fixed pseudo-random cloud with many ties on a coarse grid.
  std::vector<std::vector<double>> points;
  std::uint64_t s = 12345;
  for (int i = 0; i < 400; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    points.push_back({static_cast<double>((s >> 33) % 20), static_cast<double>((s >> 45) % 20)});
  }
  std::vector<bool> expected(points.size(), true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = 0; j < points.size(); ++j) {
      const bool no_worse = points[j][0] <= points[i][0] && points[j][1] <= points[i][1];
      if (no_worse && points[j] != points[i]) expected[i] = false;
    }
  }
  CHECK(pareto_front(points) == expected);
}

TEST_CASE("marking a table takes only ok rows with numbers", "[sweep]") {
  Table t{{"point", "status", "error", "area_mm2", "tokens_per_second"},
          {{"0", "ok", "", "100", "1000"},
           {"1", "ok", "", "200", "3000"},
           {"2", "ok", "", "300", "2000"},  // beaten by point 1
           {"3", "failed", "x", "", ""},
           {"4", "skipped", "c", "50", "9000"},  // would beat all, but was skipped
           {"5", "ok", "", "", "5000"}}};        // no area: not comparable
  mark_pareto(t, parse_objectives("x=area_mm2,y=tokens_per_second", t.header));
  REQUIRE(t.header.back() == "pareto");
  Strings marks;
  for (const auto& r : t.rows) marks.push_back(r.back());
  CHECK(marks == Strings{"1", "1", "0", "", "", ""});
  // Marking again replaces the column rather than adding one.
  mark_pareto(t, parse_objectives("x=area_mm2:max,y=tokens_per_second", t.header));
  CHECK(t.header.size() == 6);
  marks.clear();
  for (const auto& r : t.rows) marks.push_back(r.back());
  CHECK(marks == Strings{"0", "1", "1", "", "", ""});
}
