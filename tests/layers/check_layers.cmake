# check_layers.cmake - proves that the build enforces the library's layers
# (src/CMakeLists.txt, docs/design.md). Run by CTest "layers" as
#   cmake -DCC=<compiler> -DAREAS=core,data,... -DSOURCE_DIR=<repo>
#         -DFLAGS_DIR=<build>/layers -P check_layers.cmake
#
# For every area A (compiled with the flags of its own target, from
# FLAGS_DIR/A.flags) it compiles one probe file per header (-fsyntax-only):
#   - every public header of A (include/A/mcuopt/*.h) must compile: each
#     header stands on its own and includes nothing above A;
#   - every public header of an area above A must fail with "No such file"
#     (an upward include is a build error);
#   - every public header of an area below A that A links must compile;
#   - every private header of A (src/A/*.h) must compile and every private
#     header of another area must fail with "No such file", whether spelled
#     "net.h" or "train/net.h" (no src/ on the include path);
#   - a call up a layer without the header (core calling mco_train) must
#     fail as an implicit declaration.
# The checks that must compile keep it from passing vacuously (e.g. with
# flags that break every compile).
#
# What it leaves out: calls through a hand-written prototype (nothing stops
# `extern` declarations; review does), and the CLI, tests and benches, which
# link the whole library.

foreach(var CC AREAS SOURCE_DIR FLAGS_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_layers.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "," ";" areas "${AREAS}")
set(work ${FLAGS_DIR}/probes)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})

set(failures 0)
set(checks 0)

# probe(<area> <flags> <source text> <PASS|FAIL> <regex the failure must show> <what>)
function(probe area flags text expect fail_regex what)
  string(MAKE_C_IDENTIFIER "${area}_${what}" name)
  set(file ${work}/${name}.c)
  file(WRITE ${file} "${text}\n")
  execute_process(COMMAND ${CC} -std=c11 ${flags} -fsyntax-only ${file}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  math(EXPR n "${checks} + 1")
  set(checks ${n} PARENT_SCOPE)
  set(bad "")
  if(expect STREQUAL "PASS" AND NOT rc EQUAL 0)
    set(bad "should compile but does not")
  elseif(expect STREQUAL "FAIL" AND rc EQUAL 0)
    set(bad "should be a build error but compiles")
  elseif(expect STREQUAL "FAIL" AND NOT out MATCHES "${fail_regex}")
    set(bad "fails, but not with '${fail_regex}'")
  endif()
  if(bad)
    message(SEND_ERROR "area ${area}: ${what}: ${bad}\n${out}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  endif()
endfunction()

list(LENGTH areas n_areas)
foreach(area ${areas})
  file(STRINGS ${FLAGS_DIR}/${area}.flags lines)
  set(flags "")
  foreach(line ${lines})
    if(NOT line STREQUAL "-I" AND NOT line STREQUAL "-D")
      list(APPEND flags ${line})
    endif()
  endforeach()
  list(FIND areas ${area} rank)
  foreach(other ${areas})
    list(FIND areas ${other} other_rank)
    file(GLOB public RELATIVE ${SOURCE_DIR}/include/${other} ${SOURCE_DIR}/include/${other}/mcuopt/*.h)
    list(FIND flags "-I${SOURCE_DIR}/include/${other}" linked)
    foreach(h ${public})
      if(other_rank GREATER rank)
        probe(${area} "${flags}" "#include \"${h}\"" FAIL "No such file" "includes ${h} of ${other} (above)")
      elseif(other STREQUAL area OR linked GREATER -1)
        probe(${area} "${flags}" "#include \"${h}\"" PASS "" "includes ${h} of ${other}")
      endif()
    endforeach()
    file(GLOB private RELATIVE ${SOURCE_DIR}/src/${other} ${SOURCE_DIR}/src/${other}/*.h)
    foreach(h ${private})
      if(other STREQUAL area)
        probe(${area} "${flags}" "#include \"${h}\"" PASS "" "includes its private ${h}")
      else()
        probe(${area} "${flags}" "#include \"${h}\"" FAIL "No such file" "includes ${h}, private to ${other}")
        probe(${area} "${flags}" "#include \"${other}/${h}\"" FAIL "No such file"
              "includes ${other}/${h}, private to ${other}")
      endif()
    endforeach()
  endforeach()
endforeach()

# A call up a layer with no header at all: core calling the trainer.
file(STRINGS ${FLAGS_DIR}/core.flags core_flags)
list(FILTER core_flags EXCLUDE REGEX "^-[ID]$")
probe(core "${core_flags}" "#include \"mcuopt/graph.h\"\nint f(mco_model *m) { return mco_train(m, 0, 0, 0, 0); }"
      FAIL "implicit declaration of function .+mco_train" "calls mco_train without its header")
# ... and the same call where it is allowed compiles.
file(STRINGS ${FLAGS_DIR}/train.flags train_flags)
list(FILTER train_flags EXCLUDE REGEX "^-[ID]$")
probe(train "${train_flags}" "#include \"mcuopt/train.h\"\nint f(mco_model *m) { return mco_train(m, 0, 0, 0, 0); }"
      PASS "" "calls mco_train with its header")

if(failures GREATER 0)
  message(FATAL_ERROR "layers: ${failures} of ${checks} checks failed")
endif()
message(STATUS "layers: ${checks} checks over ${n_areas} areas passed")
