# tests/fuzz/run_fuzz.cmake — one fuzz test: copies the checked-in corpus into the build
# directory (the fuzzer adds to its corpus; the source tree is never written) and runs the
# target on it for SECONDS. Crash, leak and timeout inputs land in WORK/artifacts/.
#   cmake -DFUZZER=... -DCORPUS=... -DWORK=... -DDICT=... -DSECONDS=... -P run_fuzz.cmake
file(REMOVE_RECURSE ${WORK}/corpus)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)
set(args ${WORK}/corpus -max_total_time=${SECONDS} -timeout=25 -rss_limit_mb=2048
         -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} WORKING_DIRECTORY ${WORK} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} failed (${result}); inputs kept: ${found}")
endif()
