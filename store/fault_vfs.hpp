// The test VFS that fails the Nth write, sync or read (fault_vfs.cpp): for the fault sweep.
#pragma once

namespace dalil::store::detail {

/// The name of the fault-injecting VFS when DALIL_FAULT_INJECT asks for one (and the build has
/// DALIL_FAULT_INJECTION), registered on first call; nullptr otherwise (the default VFS).
const char* fault_vfs_name();

}  // namespace dalil::store::detail
