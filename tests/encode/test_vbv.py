from shotenc.encode.vbv import buffer_trace


def test_a_rendition_at_its_cap_keeps_the_buffer_and_one_burst_too_many_runs_it_dry():
    """10 fps, 100 kbit/s cap, 200 kbit buffer (starts at 180): frames of exactly the cap's share take out what
    comes in; a 150 kbit keyframe takes it to 30 kbit (its other frames take what comes in); a second one in
    the next chunk, before it has refilled, runs it dry there."""
    steady = [[1250] * 10]  # 10 kbit a frame
    assert buffer_trace(steady * 3, 10.0, 100.0, 200.0).lowest == 0.9 - 0.05
    burst = [[150 * 125] + [1250] * 9]
    trace = buffer_trace(steady + burst, 10.0, 100.0, 200.0)
    assert trace.holds and trace.lowest_chunk == 1 and trace.lowest == 0.15
    dry = buffer_trace(steady + burst + burst, 10.0, 100.0, 200.0)
    assert dry.first_dry == 2 and not dry.holds and dry.lowest < 0


def test_the_buffer_never_holds_more_than_its_size():
    """Easy chunks fill the buffer only to its size: a burst after them has the buffer, not the idle time."""
    idle = [[0] * 50]
    burst = [[210 * 125]]
    assert buffer_trace(idle + burst, 10.0, 100.0, 200.0).first_dry == 1
    assert buffer_trace(idle + [[190 * 125]], 10.0, 100.0, 200.0).holds
