// The umbrella header: everything a user of stencil needs.
#pragma once

#include "stencil/bitmask.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"
#include "stencil/vocabulary.h"
