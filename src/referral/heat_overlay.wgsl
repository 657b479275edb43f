// The heat overlays' fragment shader: the vertex colour as it is (straight alpha, blended by
// the pipeline), then what Bevy does after lighting when the camera tonemaps in the shader.
// StandardMaterial's unlit path gave the same pixels but ran most of the PBR fragment code
// (inputs, decals, flags) per fragment: on a CPU renderer the overlay cost a tenth of a frame.
#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view
#ifdef TONEMAP_IN_SHADER
#import bevy_core_pipeline::tonemapping::{tone_mapping, screen_space_dither}
#import bevy_render::maths::powsafe
#endif

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
#ifdef VERTEX_COLORS
    var colour = in.color;
#else
    var colour = vec4<f32>(0.0);
#endif
#ifdef TONEMAP_IN_SHADER
    colour = tone_mapping(colour, view.color_grading);
#ifdef DEBAND_DITHER
    var rgb = powsafe(colour.rgb, 1.0 / 2.2);
    rgb += screen_space_dither(in.position.xy);
    colour = vec4<f32>(powsafe(rgb, 2.2), colour.a);
#endif
#endif
    return colour;
}
