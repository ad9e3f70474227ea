# Installs the build into a scratch prefix, configures the consumer against it with
# find_package(Descent), builds and runs it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE r OUTPUT_QUIET)
if(r)
  message(FATAL_ERROR "install failed: ${r}")
endif()
# Every installed folder holds something: data sets and other non-header files in the
# source folders must not leave empty directories behind.
file(GLOB_RECURSE _entries LIST_DIRECTORIES true ${WORK_DIR}/prefix/include/descent/*)
foreach(_e ${_entries})
  if(IS_DIRECTORY ${_e})
    file(GLOB _inside ${_e}/*)
    if(NOT _inside)
      message(FATAL_ERROR "the install created an empty folder: ${_e}")
    endif()
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "configuring the consumer failed: ${r}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "building the consumer failed: ${r}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "the consumer failed: ${r}")
endif()
