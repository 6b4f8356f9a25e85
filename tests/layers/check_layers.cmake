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
#     fail as an implicit declaration;
#   - in the built libraries (nm), every symbol an area uses that another
#     area defines must come from an area it links: this catches calls
#     through a hand-written prototype too.
# The checks that must compile keep it from passing vacuously (e.g. with
# flags that break every compile).
#
# What it leaves out: the CLI, tests and benches, which link the whole
# library; uses of another area's macros or inline functions (no symbol).

foreach(var CC NM AREAS SOURCE_DIR FLAGS_DIR)
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
    if(line MATCHES "\\.a$")
      set(library_${area} ${line})
    elseif(NOT line STREQUAL "-I" AND NOT line STREQUAL "-D")
      list(APPEND flags ${line})
    endif()
  endforeach()
  set(flags_${area} ${flags})
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
probe(core "${flags_core}" "#include \"mcuopt/graph.h\"\nint f(mco_model *m) { return mco_train(m, 0, 0, 0, 0); }"
      FAIL "implicit declaration of function .+mco_train" "calls mco_train without its header")
# ... and the same call where it is allowed compiles.
probe(train "${flags_train}" "#include \"mcuopt/train.h\"\nint f(mco_model *m) { return mco_train(m, 0, 0, 0, 0); }"
      PASS "" "calls mco_train with its header")

# The symbols: which area defines each, and which each area uses.
foreach(area ${areas})
  execute_process(COMMAND ${NM} -g ${library_${area}} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} -g ${library_${area}} failed")
  endif()
  string(REGEX MATCHALL "\n[0-9a-f]* *[A-Z] [A-Za-z_][A-Za-z_0-9]*" entries "\n${out}")
  set(used_${area} "")
  foreach(entry ${entries})
    string(REGEX REPLACE "^\n[0-9a-f]* *([A-Z]) ([A-Za-z_0-9]+)$" "\\1;\\2" parts "${entry}")
    list(GET parts 0 type)
    list(GET parts 1 symbol)
    if(type STREQUAL "U")
      list(APPEND used_${area} ${symbol})
    elseif(NOT DEFINED owner_${symbol})
      set(owner_${symbol} ${area})
    endif()
  endforeach()
endforeach()
set(cross 0)
foreach(area ${areas})
  list(REMOVE_DUPLICATES used_${area})
  foreach(symbol ${used_${area}})
    if(NOT DEFINED owner_${symbol} OR owner_${symbol} STREQUAL area)
      continue()
    endif()
    set(other ${owner_${symbol}})
    math(EXPR cross "${cross} + 1")
    list(FIND flags_${area} "-I${SOURCE_DIR}/include/${other}" linked)
    if(linked LESS 0)
      message(SEND_ERROR "area ${area} uses ${symbol} of ${other}, which it does not link")
      math(EXPR failures "${failures} + 1")
    endif()
  endforeach()
endforeach()
if(cross EQUAL 0)
  message(SEND_ERROR "no area uses another's symbols: the symbol check read nothing")
  math(EXPR failures "${failures} + 1")
endif()
math(EXPR checks "${checks} + ${cross}")

if(failures GREATER 0)
  message(FATAL_ERROR "layers: ${failures} of ${checks} checks failed")
endif()
message(STATUS "layers: ${checks} checks over ${n_areas} areas passed")
