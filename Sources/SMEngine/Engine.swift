// SMEngine: composition of the engine (being written).
